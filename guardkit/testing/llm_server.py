"""A scripted OpenAI- and Anthropic-compatible HTTP server on 127.0.0.1.

Tests talk to it with the official SDKs over a real connection, so reasks, usage and errors
travel exactly as they would against a provider.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Answer:
    """One scripted reply: content, or an HTTP error status, optionally after a delay."""

    content: str = ""
    status: int = 200
    delay_s: float = 0.0
    input_tokens: int = 100
    output_tokens: int = 20
    finish_reason: str = "stop"


@dataclass
class Script:
    answers: list[Answer] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next(self, body: dict[str, Any]) -> Answer:
        with self.lock:
            self.requests.append(body)
            if not self.answers:
                return Answer(status=500, content="script exhausted")
            return self.answers.pop(0)


def _completion(body: dict[str, Any], a: Answer) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "test-model"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": a.content},
                "finish_reason": a.finish_reason,
            }
        ],
        "usage": {
            "prompt_tokens": a.input_tokens,
            "completion_tokens": a.output_tokens,
            "total_tokens": a.input_tokens + a.output_tokens,
        },
    }


def _chunks(body: dict[str, Any], a: Answer) -> list[dict[str, Any]]:
    base = {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": body.get("model"),
    }
    pieces = [a.content[i : i + 7] for i in range(0, len(a.content), 7)] or [""]
    out = [
        {**base, "choices": [{"index": 0, "delta": {"content": p}, "finish_reason": None}]}
        for p in pieces
    ]
    out.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": a.finish_reason}]})
    out.append(
        {
            **base,
            "choices": [],
            "usage": {
                "prompt_tokens": a.input_tokens,
                "completion_tokens": a.output_tokens,
                "total_tokens": a.input_tokens + a.output_tokens,
            },
        }
    )
    return out


def _message(body: dict[str, Any], a: Answer) -> dict[str, Any]:
    return {
        "id": "msg_test",
        "type": "message",
        "role": "assistant",
        "model": body.get("model", "test-model"),
        "content": [{"type": "text", "text": a.content}],
        "stop_reason": "end_turn" if a.finish_reason == "stop" else "max_tokens",
        "stop_sequence": None,
        "usage": {"input_tokens": a.input_tokens, "output_tokens": a.output_tokens},
    }


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", "0"))
        body = json.loads(self.rfile.read(length) or b"{}")
        answer = self.server.script.next({"path": self.path, **body})
        if answer.delay_s:
            time.sleep(answer.delay_s)
        if answer.status != 200:
            self._json(
                answer.status, {"error": {"message": answer.content, "type": "server_error"}}
            )
        elif self.path.endswith("/messages"):
            self._json(200, _message(body, answer))
        elif body.get("stream"):
            self._stream(_chunks(body, answer))
        else:
            self._json(200, _completion(body, answer))

    def _json(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _stream(self, chunks: list[dict[str, Any]]) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.end_headers()
        for chunk in chunks:
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
        self.wfile.write(b"data: [DONE]\n\n")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # a test firing 100 calls at once must not see connection resets
    script: Script

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out on a delayed answer closed its socket: expected, not news.
        # The default prints a traceback from this thread into whatever captures stderr now.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class ScriptedLLMServer:
    """Start with ``start()``; script answers with ``answer(...)``; read ``requests`` afterwards."""

    def __init__(self) -> None:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.script = Script()
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def anthropic_url(self) -> str:
        """Base URL for the Anthropic SDK (it adds ``/v1/messages`` itself)."""
        host, port = self._server.server_address[:2]
        name = host if isinstance(host, str) else host.decode()
        return f"http://{name}:{port}"

    @property
    def base_url(self) -> str:
        """Base URL for the OpenAI SDK."""
        return f"{self.anthropic_url}/v1"

    @property
    def requests(self) -> list[dict[str, Any]]:
        return self._server.script.requests

    def answer(self, *answers: Answer | str) -> None:
        self._server.script.answers = [
            a if isinstance(a, Answer) else Answer(content=a) for a in answers
        ]
        self._server.script.requests = []

    def start(self) -> ScriptedLLMServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
