"""Headless Chromium for exports, offline: kaleido draws figures with it, and HTML (dashboards,
print templates) is printed to PDF with it.

The browser is Debian's (or any the admin names in SAFEFLOW_CHROMIUM); SafeFlow never downloads
one. Every launch goes through a small wrapper that adds `--host-resolver-rules` mapping every
host but loopback to nothing, so a stray reference to a CDN fails at once instead of hanging or
leaking a request, and kaleido runs with MathJax off (it would fetch it from a CDN).
"""

from __future__ import annotations

import asyncio
import os
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from engine import i18n
from engine.errors import SafeFlowError

CANDIDATES = ("/usr/lib/chromium/chromium", "/usr/bin/chromium", "/usr/bin/chromium-browser",
              "/usr/bin/google-chrome", "/usr/bin/google-chrome-stable")
RESOLVER_RULES = "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost"
OFFLINE_ARGS = ("--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--disable-quic", "--disable-extensions",
                f"--host-resolver-rules={RESOLVER_RULES}")


class ExportUnavailable(SafeFlowError):
    status = 503
    default_code = "reports.no_chromium"


def find_chromium() -> str:
    """The browser to use: SAFEFLOW_CHROMIUM, else BROWSER_PATH, else the usual install places."""
    for name in ("SAFEFLOW_CHROMIUM", "BROWSER_PATH"):
        value = os.environ.get(name)
        if value and Path(value).is_file() and os.access(value, os.X_OK) and "safeflow-offline" not in value:
            return value
    for candidate in CANDIDATES:
        if Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    raise ExportUnavailable()


def offline_wrapper(browser: str | None = None) -> Path:
    """An executable that starts the browser with the offline flags (what kaleido launches)."""
    real = browser or find_chromium()
    folder = Path(tempfile.gettempdir()) / f"safeflow-chromium-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    target = folder / "safeflow-offline-chromium"
    script = f'#!/bin/sh\nexec {shlex.quote(real)} {shlex.quote("--host-resolver-rules=" + RESOLVER_RULES)} "$@"\n'
    if not target.exists() or target.read_text() != script:
        partial = folder / f".wrapper-{os.getpid()}"
        partial.write_text(script)
        partial.chmod(0o700)
        partial.replace(target)
    return target


def render_figures(figures: Sequence[tuple[dict[str, Any], dict[str, Any]]], browser: str | None = None
                   ) -> list[bytes]:
    """[(figure, {"format": "png" | "svg" | "pdf", "width", "height", "scale"})] → image bytes,
    all drawn in one browser session."""
    import kaleido

    wrapper = offline_wrapper(browser)

    async def draw() -> list[bytes]:
        async with kaleido.Kaleido(path=str(wrapper), mathjax=False, n=1, timeout=60) as session:
            return [await session.calc_fig(figure, opts=opts) for figure, opts in figures]

    return _run(draw())


def _run(coroutine: Any) -> Any:
    """Run a coroutine to completion from sync code, also when an event loop is running in
    this thread (a worker thread gets its own loop)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def print_pdf(html: str, browser: str | None = None, timeout: float = 60) -> bytes:
    """Print an HTML document to PDF with headless Chromium (CSS @page sets the paper)."""
    real = browser or find_chromium()
    with tempfile.TemporaryDirectory(prefix="safeflow-print-") as folder:
        page = Path(folder) / "page.html"
        out = Path(folder) / "out.pdf"
        page.write_text(html, encoding="utf-8")
        command = [real, "--headless", *OFFLINE_ARGS, "--no-pdf-header-footer", f"--user-data-dir={folder}/profile",
                   f"--print-to-pdf={out}", page.as_uri()]
        completed = subprocess.run(command, capture_output=True, timeout=timeout, check=False)
        if not out.exists() or out.stat().st_size == 0:
            raise SafeFlowError("reports.print_failed", status=500,
                                detail=completed.stderr.decode(errors="replace")[-400:])
        return out.read_bytes()


i18n.register_messages(
    {
        "reports.no_chromium": {
            "zh-CN": "未找到 Chromium，无法导出图片/PDF：请安装（apt-get install chromium）或设置 SAFEFLOW_CHROMIUM",
            "en": "Chromium was not found, so images and PDFs cannot be exported: install it (apt-get install "
                  "chromium) or set SAFEFLOW_CHROMIUM"},
        "reports.print_failed": {"zh-CN": "生成 PDF 失败：{detail}", "en": "Printing to PDF failed: {detail}"},
    }
)
