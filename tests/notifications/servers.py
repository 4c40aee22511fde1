"""Real servers on 127.0.0.1 for delivery tests: an HTTP receiver that records requests and
answers from a script, and an SMTP server (aiosmtpd) that keeps what it receives."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class HttpReceiver:
    """Answers each request with the next scripted (status, json) — the last one repeats."""

    script: list[tuple[int, Any]] = field(default_factory=lambda: [(200, {"ok": True})])
    requests: list[Received] = field(default_factory=list)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextmanager
def http_receiver(*script: tuple[int, Any]) -> Iterator[HttpReceiver]:
    receiver = HttpReceiver(script=list(script) or [(200, {"ok": True})])
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            with lock:
                receiver.requests.append(Received(self.command, self.path, dict(self.headers.items()), body))
                index = min(len(receiver.requests), len(receiver.script)) - 1
                status, answer = receiver.script[index]
            raw = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        do_POST = do_PUT = do_GET = _answer

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@dataclass
class Mailbox:
    port: int = 0
    messages: list[Any] = field(default_factory=list)


@contextmanager
def smtp_server() -> Iterator[Mailbox]:
    from email import message_from_bytes, policy

    from aiosmtpd.controller import Controller

    mailbox = Mailbox()

    class Keep:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            message = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
            mailbox.messages.append((list(envelope.rcpt_tos), message))
            return "250 OK"

    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    mailbox.port = probe.getsockname()[1]
    probe.close()
    controller = Controller(Keep(), hostname="127.0.0.1", port=mailbox.port)
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()
