"""A real HTTP server on loopback that speaks the OpenAI chat completions wire format.

Each test scripts the replies it wants, in order; the server records every
request it gets. Nothing of our own client is patched: it talks HTTP to this.
"""

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    """One scripted answer: a status, headers and a body built from steps.

    Steps: ("send", bytes) writes a chunk; ("sleep", s) pauses; ("drop",) cuts
    the connection mid-body; ("hang",) waits until the server stops; ("wait", event) goes
    on once the test sets that threading.Event (30 s at most); ("beat", event, s) sends a
    keep-alive comment every s seconds until then.
    `no_response` closes the connection before any status line. `keep_alive` leaves the
    connection open for the next request once the body has ended.
    """

    status: int = 200
    headers: dict = field(default_factory=lambda: {"Content-Type": "text/event-stream"})
    steps: list = field(default_factory=list)
    no_response: bool = False
    keep_alive: bool = False


class _Server(ThreadingHTTPServer):
    # Room for many connections arriving at once (the default backlog is 5: past it, a
    # connection waits for the client's SYN to be sent again, a second or more).
    request_queue_size = 512


@dataclass
class Recorded:
    """A request the server received."""

    method: str
    path: str
    headers: dict
    body: dict | None
    peer: tuple = ()  # The client's address and port: one per connection.


def chunk(
    delta: dict | None = None, *, finish: str | None = None, usage: dict | None = None
) -> dict:
    """One streamed completion chunk."""
    payload: dict = {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "test-model",
        "choices": []
        if delta is None and finish is None
        else [{"index": 0, "delta": delta or {}, "finish_reason": finish}],
    }
    if usage is not None:
        payload["usage"] = usage
    return payload


def sse(*events: dict | str, done: bool = True, delay: float = 0.0, status: int = 200) -> Reply:
    """A streamed reply: each event a dict (sent as JSON) or a raw line block."""
    steps = []
    for event in events:
        text = event if isinstance(event, str) else f"data: {json.dumps(event)}\n\n"
        steps.append(("send", text.encode()))
        if delay:
            steps.append(("sleep", delay))
    if done:
        steps.append(("send", b"data: [DONE]\n\n"))
    return Reply(status=status, steps=steps)


def text_stream(
    *pieces: str,
    finish: str = "stop",
    usage: tuple[int, int] | None = (10, 5),
    delay: float = 0.0,
    done: bool = True,
) -> Reply:
    """A plain streamed answer made of these text pieces."""
    events = [chunk({"role": "assistant", "content": ""})]
    events += [chunk({"content": piece}) for piece in pieces]
    events.append(chunk(finish=finish))
    if usage:
        events.append(
            chunk(
                usage={
                    "prompt_tokens": usage[0],
                    "completion_tokens": usage[1],
                    "total_tokens": sum(usage),
                }
            )
        )
    return sse(*events, done=done, delay=delay)


def error_reply(status: int, body: dict | str, headers: dict | None = None) -> Reply:
    """An HTTP error with a JSON (or text) body."""
    data = body if isinstance(body, str) else json.dumps(body)
    return Reply(
        status=status,
        headers={"Content-Type": "application/json", **(headers or {})},
        steps=[("send", data.encode())],
    )


class FakeUpstream:
    """The server: start(), script replies, read `requests`, stop()."""

    def __init__(self) -> None:
        self.replies: list[Reply] = []
        # Replies for requests whose last user message contains a key: tests that run
        # turns at once say which reply goes to which turn.
        self.routes: dict[str, list[Reply]] = {}
        # Replies for requests to a model: a compare's replies go out at once, one per model.
        self.model_routes: dict[str, list[Reply]] = {}
        self.requests: list[Recorded] = []
        self.models: dict = {"object": "list", "data": [{"id": "test-model"}]}
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.server = _Server(("127.0.0.1", 0), self._handler_class())
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def list_models(self, *model_ids: str) -> None:
        """Offer these models on /models too (the app refuses models its provider lacks)."""
        self.models["data"] += [{"id": model_id} for model_id in model_ids]

    @property
    def url(self) -> str:
        """The base URL, as LLM_BASE_URL takes it."""
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def start(self) -> "FakeUpstream":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()

    def script(self, *replies: Reply) -> None:
        """Queue replies for the next requests to /chat/completions, in order."""
        with self.lock:
            self.replies.extend(replies)

    def route(self, marker: str, *replies: Reply) -> None:
        """Queue replies for the requests whose last user message contains `marker`."""
        with self.lock:
            self.routes.setdefault(marker, []).extend(replies)

    def route_model(self, model: str, *replies: Reply) -> None:
        """Queue replies for the requests that ask for `model`."""
        with self.lock:
            self.model_routes.setdefault(model, []).extend(replies)

    def completions(self) -> list[Recorded]:
        """The chat completion requests received so far."""
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def _next_reply(self, body: dict | None = None) -> Reply:
        asked = _last_user_text(body)
        with self.lock:
            wanted = self.model_routes.get((body or {}).get("model") or "")
            if wanted:
                return wanted.pop(0)
            for marker, replies in self.routes.items():
                if replies and marker in asked:
                    return replies.pop(0)
            if self.replies:
                return self.replies.pop(0)
        return error_reply(500, {"error": {"message": "the fake upstream has no scripted reply"}})

    def _handler_class(self):
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # Keep test output quiet.
                pass

            def _record(self, body: dict | None) -> None:
                upstream.requests.append(
                    Recorded(
                        self.command,
                        self.path,
                        dict(self.headers.items()),
                        body,
                        tuple(self.client_address),
                    )
                )

            def do_GET(self) -> None:
                self._record(None)
                if self.path.endswith("/models"):
                    data = json.dumps(upstream.models).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                else:
                    self.send_error(404)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = None
                self._record(body)
                reply = upstream._next_reply(body)
                if reply.no_response:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Transfer-Encoding", "chunked")
                if not reply.keep_alive:
                    self.send_header("Connection", "close")
                self.end_headers()
                self.close_connection = not reply.keep_alive
                try:
                    for step in reply.steps:
                        if step[0] == "send":
                            self._chunk(step[1])
                        elif step[0] == "sleep":
                            time.sleep(step[1])
                        elif step[0] == "wait":
                            step[1].wait(30)
                        elif step[0] == "beat":
                            until = time.monotonic() + 30
                            while not step[1].wait(step[2]) and time.monotonic() < until:
                                self._chunk(b": ping\n\n")
                        elif step[0] == "drop":
                            self.connection.shutdown(socket.SHUT_RDWR)
                            return
                        elif step[0] == "hang":
                            upstream.stopping.wait(120)
                            return
                    self.wfile.write(b"0\r\n\r\n")
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # The client went away (a stop, a timeout): that is its right.

            def _chunk(self, data: bytes) -> None:
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()

        return Handler


def _last_user_text(body: dict | None) -> str:
    if not isinstance(body, dict):
        return ""
    for message in reversed(body.get("messages") or []):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            return content if isinstance(content, str) else json.dumps(content)
    return ""


def tool_calls_stream(*calls: tuple[str, str], split: int = 0, indexed: bool = True) -> Reply:
    """A streamed reply that calls tools: (name, arguments JSON) pairs.

    `split` cuts each call's arguments into fragments of that many characters
    (0 sends them whole); `indexed=False` omits `index` as some servers do.
    """
    events = [chunk({"role": "assistant", "content": None})]
    for i, (name, arguments) in enumerate(calls):
        pieces = (
            [arguments[k : k + split] for k in range(0, len(arguments), split)]
            if split
            else [arguments]
        )
        head = {"id": f"call_{i}", "type": "function", "function": {"name": name, "arguments": ""}}
        rest = [{"function": {"arguments": piece}} for piece in pieces]
        for part in [head, *rest]:
            if indexed:
                part = {"index": i, **part}
            events.append(chunk({"tool_calls": [part]}))
    events.append(chunk(finish="tool_calls"))
    events.append(chunk(usage={"prompt_tokens": 20, "completion_tokens": 8}))
    return sse(*events)


# ---- Providers as they really behave ---------------------------------------------------
# Each profile is what a real provider does on a bad day; tests scale the seconds down
# with the app's timeouts and lease, and one test runs them all in real time.


def late_first_token(seconds: float, *pieces: str) -> Reply:
    """A queued provider, or a model reasoning unseen: the headers, then nothing for
    `seconds`, then the reply."""
    reply = text_stream(*pieces)
    reply.steps.insert(0, ("sleep", seconds))
    return reply


def long_reply(seconds: float, pieces: int = 40) -> Reply:
    """A reply that streams for about `seconds`, `pieces` words evenly spread."""
    return text_stream(*[f"w{i} " for i in range(pieces)], delay=seconds / pieces)


def silent() -> Reply:
    """The headers, then nothing at all, however long the client waits."""
    return Reply(steps=[("hang",)])


def rate_limited(retry_after: float) -> Reply:
    """A 429 asking to be tried again in `retry_after` seconds."""
    return error_reply(
        429,
        {"error": {"message": "Rate limit reached, slow down"}},
        {"Retry-After": f"{retry_after:g}"},
    )


def server_errors(count: int, status: int = 503) -> list[Reply]:
    """A burst of `count` server errors."""
    return [error_reply(status, {"error": {"message": "overloaded"}})] * count


def bursty(text: str, *, pause: float = 0.05) -> Reply:
    """A stream whose events arrive in bursts: several events in one read, then events cut
    anywhere, mid-line and mid-character (UTF-8), with pauses between the pieces."""
    events = [chunk({"role": "assistant", "content": ""})]
    events += [chunk({"content": text[i : i + 3]}) for i in range(0, len(text), 3)]
    events += [chunk(finish="stop"), chunk(usage={"prompt_tokens": 5, "completion_tokens": 9})]
    body = b"".join(f"data: {json.dumps(e, ensure_ascii=False)}\n\n".encode() for e in events)
    body += b"data: [DONE]\n\n"
    steps, at, sizes = [], 0, [1, 2, 7, 400, 3, 1, 90, 11, 5, 1000]
    while at < len(body):
        size = sizes[len(steps) // 2 % len(sizes)]
        steps += [("send", body[at : at + size]), ("sleep", pause)]
        at += size
    return Reply(steps=steps)
