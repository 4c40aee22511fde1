"""`safeflow serve` as a newcomer runs it: a real process answering /health and /docs."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_serve_brings_up_api_docs_and_a_first_admin(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "SAFEFLOW_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(ROOT),
           "SAFEFLOW_LOCALE": "en"}
    env.pop("SAFEFLOW_DATABASE_URL", None)
    env.pop("SAFEFLOW_ADMIN_PASSWORD", None)
    process = subprocess.Popen([sys.executable, "-m", "engine.cli", "serve", "--port", str(port)], cwd=tmp_path,
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        health = None
        for _ in range(240):  # up to 60 s on a loaded machine
            try:
                health = httpx.get(f"{base}/health", timeout=2)
                break
            except httpx.TransportError:
                if process.poll() is not None:
                    break
                time.sleep(0.25)
        assert health is not None and health.status_code == 200, "server did not come up"
        assert health.json()["schema_current"] is True
        assert httpx.get(f"{base}/docs", timeout=5).status_code == 200
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
    password = next(line.split("password:")[1].strip() for line in output.splitlines() if "password:" in line)
    assert (tmp_path / "data" / "safeflow.sqlite3").exists()
    # The printed password is the admin's: log in with it against the same database.
    from fastapi.testclient import TestClient

    from engine.api.app import create_app
    from engine.config import Settings

    settings = Settings(data_dir=tmp_path / "data")
    with TestClient(create_app(settings, run_worker=False)) as client:
        response = client.post("/api/v1/auth/token", data={"username": "admin", "password": password})
        assert response.status_code == 200
