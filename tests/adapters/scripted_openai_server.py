"""A scripted OpenAI-compatible chat-completions server on 127.0.0.1, for offline tests of `vlm-api`.

Standard library only: a `ThreadingHTTPServer` in a daemon thread speaks

- `POST /v1/chat/completions`: answered by the test's script, a function of the recorded request
  (its user text, its images, how many times the same messages were asked) returning a `Reply`;
- `GET /v1/models`: one model (or `models_reply`), so a client's reachability check passes.

Every request is recorded (path, parsed body, headers, start and end time, attempt number) and the
largest number of chat requests in flight at once is tracked, so tests can assert what a client sent,
how often it retried, and how many requests it ran concurrently. A reply's `delay` waits on an event
that `stop()` sets, so a hanging request never outlives the test.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CHAT_PATH = "/v1/chat/completions"
MODELS_PATH = "/v1/models"


@dataclass
class RecordedRequest:
    """One request as the server received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any  # the parsed JSON body; None when there was none or it was not JSON
    started: float
    attempt: int = 1  # 1 + how many earlier chat requests carried the same messages
    finished: float | None = None
    status: int | None = None

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list((self.body or {}).get("messages", [])) if isinstance(self.body, dict) else []

    @property
    def text(self) -> str:
        """The text parts of the last user message, joined (the prompt with the query in it)."""
        users = [m for m in self.messages if m.get("role") == "user"]
        if not users:
            return ""
        content = users[-1].get("content")
        if isinstance(content, str):
            return content
        return "\n".join(part.get("text", "") for part in content if part.get("type") == "text")

    @property
    def image_urls(self) -> list[str]:
        users = [m for m in self.messages if m.get("role") == "user"]
        content = users[-1].get("content") if users else None
        if not isinstance(content, list):
            return []
        return [part["image_url"]["url"] for part in content if part.get("type") == "image_url"]

    @property
    def key(self) -> str:
        """A hash of the messages: the same sample asked again has the same key."""
        return messages_key(self.messages)


def messages_key(messages: list[dict[str, Any]]) -> str:
    return hashlib.sha256(json.dumps(messages, sort_keys=True).encode("utf-8")).hexdigest()


@dataclass
class Reply:
    """What the script answers: a status, a body (a dict is sent as JSON, bytes/str as they are),
    extra headers, a delay before answering, and the content type the body is labelled with."""

    status: int = 200
    body: dict[str, Any] | bytes | str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    content_type: str = "application/json"


Script = Callable[[RecordedRequest], Reply]


def completion(text: str | None, prompt_tokens: int = 100, completion_tokens: int = 10, **extra: Any) -> dict:
    """A chat-completions response body whose one choice says `text`."""
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 0,
        "model": extra.pop("model", "test-model"),
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop", "logprobs": None}
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
        **extra,
    }


def api_error(status: int, message: str, **headers: str) -> Reply:
    """An error reply in the OpenAI error format."""
    body = {"error": {"message": message, "type": "test_error", "code": status}}
    return Reply(status=status, body=body, headers=dict(headers))


class ScriptedOpenAIServer:
    """Use as a context manager; `base_url` is what the client's `base_url` option takes."""

    def __init__(self, script: Script, model: str = "test-model") -> None:
        self.script = script
        self.model = model
        self.models_reply: Reply | None = None  # set to answer GET /v1/models otherwise (a 401, say)
        self.requests: list[RecordedRequest] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._seen: dict[str, int] = {}
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.path == CHAT_PATH]

    def start(self) -> ScriptedOpenAIServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> ScriptedOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _record(self, handler: BaseHTTPRequestHandler, body: Any) -> RecordedRequest:
        request = RecordedRequest(
            method=handler.command,
            path=handler.path,
            headers={k.lower(): v for k, v in handler.headers.items()},
            body=body,
            started=time.monotonic(),
        )
        with self._lock:
            if request.path == CHAT_PATH:
                key = request.key
                self._seen[key] = self._seen.get(key, 0) + 1
                request.attempt = self._seen[key]
                self.in_flight += 1
                self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self.requests.append(request)
        return request

    def _answer(self, request: RecordedRequest) -> Reply:
        if request.method == "GET" and request.path == MODELS_PATH:
            if self.models_reply is not None:
                return self.models_reply
            return Reply(body={"object": "list", "data": [{"id": self.model, "object": "model", "owned_by": "test"}]})
        if request.method == "POST" and request.path == CHAT_PATH:
            if not isinstance(request.body, dict):
                return api_error(400, "the body is not a JSON object")
            return self.script(request)
        return api_error(404, f"no route {request.method} {request.path}")

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002  (the base class's name)
                pass  # quiet: tests read `server.requests` instead

            def do_GET(self) -> None:  # noqa: N802  (http.server's naming)
                self._serve(None)

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = None
                self._serve(body)

            def _serve(self, body: Any) -> None:
                request = server._record(self, body)
                try:
                    reply = server._answer(request)
                    if reply.delay > 0:
                        server._stopping.wait(reply.delay)
                    self._send(reply)
                    request.status = reply.status
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (its timeout fired) before the answer came
                finally:
                    request.finished = time.monotonic()
                    if request.path == CHAT_PATH:
                        with server._lock:
                            server.in_flight -= 1

            def _send(self, reply: Reply) -> None:
                if isinstance(reply.body, dict):
                    data = json.dumps(reply.body).encode("utf-8")
                elif isinstance(reply.body, str):
                    data = reply.body.encode("utf-8")
                else:
                    data = reply.body or b""
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(data)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
                self.wfile.flush()

        return Handler


def hashed_box_reply(request: RecordedRequest) -> Reply:
    """A box on the 0-1000 grid that is a function of the request's messages only (so the same sample
    always gets the same answer, whatever the batch), inside the image."""
    digest = bytes.fromhex(request.key)
    x1, y1 = digest[0] % 400, digest[1] % 400
    x2, y2 = x1 + 100 + digest[2] % 500, y1 + 100 + digest[3] % 500
    return Reply(body=completion(f"[{x1}, {y1}, {x2}, {y2}]"))


_SHARED: list[ScriptedOpenAIServer] = []
_SHARED_LOCK = threading.Lock()


def shared_hashed_box_server() -> ScriptedOpenAIServer:
    """A process-wide server answering `hashed_box_reply`, started on first use and left running
    (its threads are daemons), for tests that need some server, such as the adapter contract test."""
    with _SHARED_LOCK:
        if not _SHARED:
            _SHARED.append(ScriptedOpenAIServer(hashed_box_reply).start())
        return _SHARED[0]


@contextmanager
def scripted_servers(model: str = "test-model") -> Iterator[Callable[[Script], ScriptedOpenAIServer]]:
    """`start(script)` starts a server; every server started is stopped on leaving (a test's fixture)."""
    servers: list[ScriptedOpenAIServer] = []

    def start(script: Script) -> ScriptedOpenAIServer:
        servers.append(ScriptedOpenAIServer(script, model).start())
        return servers[-1]

    try:
        yield start
    finally:
        for server in servers:
            server.stop()
