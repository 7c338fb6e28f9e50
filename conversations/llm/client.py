"""The HTTP side: one shared client, retries, timeouts and the deadline.

Requests go through httpx2's API over aiohttp's connections (httpx-aiohttp's transport):
aiohttp reads a stream's events with far less CPU than httpx2's own pool, whose HTTP parser
is pure Python (bench/bench_client.py).
"""

import asyncio
import contextlib
import json
import random
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace

import aiohttp
import httpx2
from aiohttp.http_exceptions import HttpProcessingError
from httpx_aiohttp.httpx2 import AiohttpTransport

from .errors import LLMError, from_status, from_transport
from .events import Event, Retrying
from .messages import ChatMessage, ToolSpec, tool_choice_to_wire
from .redact import redact
from .sse import DONE, ChunkReader, LineSplitter, SSEDecoder, estimate_prompt_tokens

# The longest `Retry-After` a reply waits for, by default: a provider that asks for more
# ends the reply with an error that says so, rather than leaving its user waiting.
MAX_RETRY_AFTER = 30.0
# What may follow [DONE] before the body's end is read, so that the connection goes back to
# the pool (closing a response with unread body closes its connection: the next turn would
# pay a new TCP and TLS handshake). Servers end the body right after [DONE]; one that does
# not loses its connection after this long instead of delaying the reply's end further.
AFTER_DONE_SECONDS = 0.1
AFTER_DONE_BYTES = 64 * 1024
MAX_LINE = 4 * 1024 * 1024  # The longest line of a stream read (held whole until it ends).
# Bodies read whole, bounded rather than buffered on: a completion sent whole (its reply is
# cut at CHAT_MAX_REPLY_CHARS anyway; escaped, a character may take six bytes), the model
# list, and an error's body, of which only the start is shown.
MAX_BODY = 32 * 1024 * 1024
MAX_MODELS_BODY = 8 * 1024 * 1024
MAX_ERROR_BODY = 64 * 1024
JSON = {"Content-Type": "application/json"}
# What a request may raise from below: httpx2's errors (httpx-aiohttp maps most of aiohttp's
# to them), aiohttp's it does not map (a response it could not parse, among them), and
# timeouts.
TRANSPORT_ERRORS = (httpx2.HTTPError, aiohttp.ClientError, HttpProcessingError, TimeoutError)


@dataclass
class ChatRequest:
    """What one call to /chat/completions asks for."""

    model: str
    messages: list[ChatMessage]
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    tools: list[ToolSpec] = field(default_factory=list)
    tool_choice: str | None = None  # "auto", "none", "required" or a tool's name.
    stream: bool = True
    # The last message is an assistant's unfinished reply for the model to go on writing:
    # vLLM's chat-template flags (llama.cpp continues a trailing assistant message anyway).
    continue_final_message: bool = False

    def to_json(self) -> dict:
        """The request body; unset parameters are left to the provider."""
        body: dict = {
            "model": self.model,
            "messages": [message.to_wire() for message in self.messages],
            "stream": self.stream,
        }
        if self.stream:
            body["stream_options"] = {"include_usage": True}
        for name in ("temperature", "top_p", "max_tokens"):
            if getattr(self, name) is not None:
                body[name] = getattr(self, name)
        if self.continue_final_message:
            body["continue_final_message"] = True
            body["add_generation_prompt"] = False
        if self.tools:
            body["tools"] = [spec.to_wire() for spec in self.tools]
            # Some providers default to "none": always say what we mean.
            body["tool_choice"] = tool_choice_to_wire(self.tool_choice or "auto")
        return body


class LLMClient:
    """Streams chat completions from one OpenAI-compatible base URL."""

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str = "",
        connect_timeout: float = 5.0,
        read_timeout: float = 60.0,
        deadline: float = 600.0,
        max_retries: int = 2,
        backoff_base: float = 0.5,
        max_connections: int = 1000,
        max_retry_after: float = MAX_RETRY_AFTER,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.deadline = deadline
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.max_connections = max_connections
        self.max_retry_after = max_retry_after
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http: httpx2.AsyncClient | None = None

    def _session(self) -> httpx2.AsyncClient:
        if self._http is None or self._http.is_closed:
            # The environment's proxy (HTTPS_PROXY, NO_PROXY), read once, here: httpx2 reads
            # none for a transport of one's own, and aiohttp's trust_env would read it (and
            # ~/.netrc) on a thread for every request.
            proxy = _environment_proxy(self.base_url)
            self._http = httpx2.AsyncClient(
                transport=AiohttpTransport(
                    client=self._connections, proxy=httpx2.Proxy(proxy) if proxy else None
                ),
                trust_env=False,
                follow_redirects=False,  # The key goes to the configured URL only.
            )
        return self._http

    def _connections(self) -> aiohttp.ClientSession:
        """aiohttp's pool under the transport, made on the first request (in the loop that
        uses it)."""
        return aiohttp.ClientSession(
            # The key is sent by aiohttp itself: headers set through the transport reach
            # the wire lower-cased, and aiohttp keeps these as written.
            headers=self._headers,
            # Bounded: past it a reply waits for another to end. Connections are kept a
            # minute for the next turns, so that a user's next message finds one (a new
            # one costs a TCP and TLS handshake with a real provider). The certificate is
            # checked against the system's CA certificates (aiohttp's default context).
            connector=aiohttp.TCPConnector(
                limit=self.max_connections, limit_per_host=0, keepalive_timeout=60.0
            ),
            # Reading from the socket pauses while twice this is buffered unread.
            read_bufsize=MAX_LINE // 2,
        )

    async def aclose(self) -> None:
        """Close the connection pool."""
        if self._http is not None:
            await self._http.aclose()

    async def stream(
        self, request: ChatRequest, *, on_sent: Callable[[], None] | None = None
    ) -> AsyncIterator[Event]:
        """Yield the events of one completion, retrying only before the first event.

        Before each wait for another try, a `Retrying` event says how long and why, so that
        the wait can be shown. `on_sent()` is called once the request has been written to the
        provider: work that can wait (telling watchers) then overlaps the provider's time to
        answer.
        """
        try:
            async for event in self._stream(request, on_sent):
                yield event
        except LLMError as exc:
            if not (exc.refused_streaming and request.tools and request.stream):
                raise
            # Some servers cannot stream tool calls: ask again for a whole reply.
            async for event in self._stream(replace(request, stream=False), on_sent):
                yield event

    async def _stream(
        self, request: ChatRequest, on_sent: Callable[[], None] | None
    ) -> AsyncIterator[Event]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.deadline
        for attempt in range(self.max_retries + 1):
            yielded = False
            try:
                async for event in self._attempt(request, deadline, on_sent):
                    yielded = True
                    yield event
                return
            except LLMError as exc:
                self._redact(exc)
                if yielded or not exc.retryable or attempt == self.max_retries:
                    raise
                if exc.retry_after is not None and exc.retry_after > self.max_retry_after:
                    raise self._waits_too_long(exc) from exc
                delay = self._backoff(attempt, exc.retry_after)
                if loop.time() + delay > deadline:
                    raise
                reason = exc.user_message
                if exc.status == 429:  # Its own message says "try again": we do that here.
                    reason = "The model provider is busy (rate limited)."
                retrying = Retrying(after=delay, reason=reason, status=exc.status)
            yield retrying
            await asyncio.sleep(delay)

    async def list_models(self) -> list[dict]:
        """The provider's model list (`GET /models`), as its raw entries."""
        try:
            async with (
                asyncio.timeout(10.0),
                self._session().stream(
                    "GET", f"{self.base_url}/models", timeout=httpx2.Timeout(10.0)
                ) as response,
                contextlib.aclosing(response.aiter_bytes()) as chunks,
            ):
                status = response.status_code
                limit = MAX_MODELS_BODY if status == 200 else MAX_ERROR_BODY
                body = await _read_body(chunks, limit, cut=status != 200)
        except TRANSPORT_ERRORS as exc:
            raise self._redact(from_transport(exc)) from exc
        if status != 200:
            raise self._redact(from_status(status, body, response.headers))
        try:
            data = json.loads(body).get("data", [])
        except (ValueError, AttributeError, RecursionError) as exc:
            raise LLMError("The model list could not be read.") from exc
        return [entry for entry in data if isinstance(entry, dict) and entry.get("id")]

    async def _attempt(
        self, request: ChatRequest, deadline: float, on_sent: Callable[[], None] | None
    ) -> AsyncIterator[Event]:
        url = f"{self.base_url}/chat/completions"
        # Every read is bounded by the silence timeout, or what is left of the deadline if
        # that is sooner; the deadline is also checked after each line, for slow drips.
        remaining = max(deadline - asyncio.get_running_loop().time(), 0.001)
        timeout = httpx2.Timeout(
            connect=self.connect_timeout,
            read=min(self.read_timeout, remaining),
            write=self.read_timeout,
            pool=self.read_timeout,  # Waiting for a free connection (over the limit).
        )
        data = json.dumps(request.to_json()).encode()
        try:
            async with (
                self._session().stream(
                    "POST",
                    url,
                    content=_body(data, on_sent),
                    headers={**JSON, "Content-Length": str(len(data))},
                    timeout=timeout,
                ) as response,
                contextlib.aclosing(response.aiter_bytes()) as chunks,
            ):
                if response.status_code != 200:
                    body = await _read_body(chunks, MAX_ERROR_BODY, cut=True)
                    raise from_status(response.status_code, body, response.headers)
                reader = ChunkReader(prompt_estimate=estimate_prompt_tokens(request.messages))
                if "application/json" in response.headers.get("content-type", ""):
                    # The server ignored stream=true and sent one whole completion.
                    body = await self._within(_read_body(chunks, MAX_BODY), deadline)
                    for event in reader.read(_loads(body)):
                        yield event
                else:
                    async for event in self._read_sse(chunks, reader, deadline):
                        yield event
                for event in reader.finish():
                    yield event
        except httpx2.ReadTimeout as exc:  # Silence while reading.
            raise self._timed_out(deadline) from exc
        except TRANSPORT_ERRORS as exc:
            raise from_transport(exc) from exc

    async def _read_sse(
        self, chunks: AsyncIterator[bytes], reader: ChunkReader, deadline: float
    ) -> AsyncIterator[Event]:
        lines, decoder = LineSplitter(MAX_LINE), SSEDecoder()
        loop = asyncio.get_running_loop()
        # No timer per line (that was a task per token): each read has its own timeout.
        async for raw in chunks:
            if loop.time() > deadline:
                raise self._timed_out(deadline)
            for line in lines.feed(raw):
                for data in decoder.feed(line):
                    if data.strip() == DONE:
                        await _read_to_end(chunks)
                        return
                    for event in reader.read(_loads(data)):
                        yield event
        # The body ended without [DONE]: what is left is the last event.
        left = [data for line in lines.flush() for data in decoder.feed(line)]
        for data in [*left, *decoder.flush()]:
            if data.strip() != DONE:
                for event in reader.read(_loads(data)):
                    yield event

    def _timed_out(self, deadline: float) -> LLMError:
        """The error for a read that timed out: the whole reply's deadline, or silence."""
        if asyncio.get_running_loop().time() >= deadline - 0.01:
            return self._deadline_error()
        return self._silence_error()

    def _silence_error(self) -> LLMError:
        return LLMError(
            f"The model provider sent nothing for {self.read_timeout:g} s, so the reply was "
            "stopped.",
            detail=f"no data for {self.read_timeout:g} s (the read timeout)",
        )

    def _deadline_error(self) -> LLMError:
        return LLMError(
            f"The reply took longer than {self.deadline:g} s and was cut off.",
            detail=f"overall deadline of {self.deadline:g} s reached",
        )

    async def _within(self, awaitable, deadline: float):
        """Await one read, bounded by the silence timeout and the overall deadline."""
        remaining = deadline - asyncio.get_running_loop().time()
        limit = min(self.read_timeout, remaining)
        try:
            return await asyncio.wait_for(awaitable, timeout=max(limit, 0))
        except TimeoutError:
            if remaining <= self.read_timeout:
                raise self._deadline_error() from None
            raise self._silence_error() from None

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        """Seconds before the next try: what the provider asked for, else a backoff."""
        if retry_after is not None:
            return retry_after
        return min(self.backoff_base * 2**attempt, 8.0) * random.uniform(0.75, 1.0)

    def _waits_too_long(self, exc: LLMError) -> LLMError:
        """The error for a provider that asks to be tried again later than we wait."""
        asked = max(1, round(exc.retry_after or 0))
        return LLMError(
            f"The model provider is busy and asked to wait {asked} s, longer than this "
            f"server waits ({self.max_retry_after:g} s). Try again later.",
            detail=f"{exc.detail} (Retry-After {exc.retry_after:g} s, more than "
            f"{self.max_retry_after:g} s)",
            status=exc.status,
            retry_after=exc.retry_after,
        )

    def _redact(self, exc: LLMError) -> LLMError:
        """Make sure the API key, in any form the provider echoed it, never leaves in an error."""
        exc.user_message = redact(exc.user_message, self._api_key)
        exc.detail = redact(exc.detail, self._api_key)
        exc.args = (exc.user_message,)  # str(exc) too, should anything log it.
        return exc


async def _body(data: bytes, on_sent: Callable[[], None] | None) -> AsyncIterator[bytes]:
    """A request's body, then its `on_sent()`: the transport asks for what follows the body
    only once the body has been written to the connection."""
    yield data
    if on_sent is not None:
        on_sent()


def _environment_proxy(url: str) -> str | None:
    """The proxy the environment names for `url`, if any."""
    parts = urllib.parse.urlsplit(url)
    if not parts.hostname or urllib.request.proxy_bypass(parts.hostname):
        return None
    return urllib.request.getproxies().get(parts.scheme)


async def _read_body(chunks: AsyncIterator[bytes], limit: int, *, cut: bool = False) -> bytes:
    """A body read whole, up to `limit` bytes: past it, refused (or with `cut`, its start;
    the connection then closes with the response)."""
    parts, size = [], 0
    async for chunk in chunks:
        if size + len(chunk) > limit:
            if cut:
                parts.append(chunk[: limit - size])
                break
            raise LLMError(
                "The model provider sent a reply too large to read.",
                detail=f"a response body passed {limit} bytes",
            )
        parts.append(chunk)
        size += len(chunk)
    return b"".join(parts)


async def _read_to_end(chunks: AsyncIterator[bytes]) -> None:
    """Skip what is left of a body after [DONE], briefly: a body read to its end keeps its
    connection open for the next request."""
    try:
        async with asyncio.timeout(AFTER_DONE_SECONDS):
            left = AFTER_DONE_BYTES
            async for chunk in chunks:
                left -= len(chunk)
                if left <= 0:
                    break
    except (TimeoutError, *TRANSPORT_ERRORS):
        pass  # The connection is closed with the response instead: nothing is lost.


def _loads(data: str | bytes) -> object:
    try:
        return json.loads(data)
    except (ValueError, RecursionError):  # RecursionError: nested past the parser's depth.
        return None  # Garbage between good chunks is skipped; all-garbage fails in finish().
