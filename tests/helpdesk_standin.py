"""A stand-in helpdesk API on 127.0.0.1 for the connector tests.

It records every request (method, path, headers, JSON body) and answers from a script:
by default 200 `{}`; `plan()` queues answers (a status, headers such as Retry-After, or a
hang of some seconds before answering). `answered` lists the requests it answered 2xx,
which is what "delivered" means to a helpdesk.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Answer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    hang: float = 0.0


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    json: Any
    status: int | None = None  # set once answered


class Standin:
    def __init__(self) -> None:
        self.requests: list[Seen] = []
        self.script: deque[Answer] = deque()
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def plan(self, *answers: Answer) -> None:
        with self.lock:
            self.script.extend(answers)

    def next_answer(self) -> Answer:
        with self.lock:
            return self.script.popleft() if self.script else Answer()

    @property
    def answered(self) -> list[Seen]:
        return [r for r in self.requests if r.status is not None and 200 <= r.status < 300]

    def wait_for(self, n: int, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.requests) < n and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(self.requests) >= n, f"{len(self.requests)} requests, expected {n}"

    def start(self) -> Standin:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _handler(standin: Standin) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _any(self) -> None:
            size = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(size) if size else b""
            seen = Seen(self.command, self.path, {k.lower(): v for k, v in self.headers.items()},
                        json.loads(raw) if raw else None)
            with standin.lock:
                standin.requests.append(seen)
            answer = standin.next_answer()
            if answer.hang:
                time.sleep(answer.hang)
            body = b"{}"
            try:
                self.send_response(answer.status)
                for k, v in {"content-type": "application/json", **answer.headers}.items():
                    self.send_header(k, v)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                self.wfile.flush()
            except OSError:  # the client gave up (timeout, killed)
                return
            seen.status = answer.status

        do_GET = do_POST = do_PUT = do_PATCH = _any

        def log_message(self, *args: Any) -> None:
            pass

    return Handler
