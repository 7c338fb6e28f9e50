"""Upstream failures, each with a short message fit to show a user."""

import json
from collections.abc import Mapping

import aiohttp
import httpx2

# Status codes worth another try before anything reached the user.
RETRYABLE_STATUSES = frozenset({408, 409, 429}) | frozenset(range(500, 600))
# A provider that could not be reached at all, or no connection to it free in time.
UNREACHABLE = (
    aiohttp.ClientConnectorError,
    aiohttp.ConnectionTimeoutError,
    httpx2.ConnectError,
    httpx2.ConnectTimeout,
    httpx2.PoolTimeout,
)


class LLMError(Exception):
    """A failed completion: `user_message` is safe to show, `detail` is for staff."""

    def __init__(
        self,
        user_message: str,
        *,
        detail: str = "",
        status: int | None = None,
        retry_after: float | None = None,
        retryable: bool = False,
    ) -> None:
        super().__init__(user_message)
        self.user_message = user_message
        self.detail = detail or user_message
        self.status = status
        self.retry_after = retry_after
        self.retryable = retryable

    @property
    def refused_streaming(self) -> bool:
        """Whether the provider rejected the request for asking to stream."""
        return self.status in (400, 422) and "stream" in self.detail.lower()


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from `retry-after-ms` or `Retry-After`, when given as a number."""
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value) * scale
        except ValueError:
            continue  # An HTTP date: rare enough here to fall back to backoff.
        if seconds >= 0:
            return seconds
    return None


def error_text(payload: object) -> str:
    """The provider's own error message from any of the shapes servers use."""
    if isinstance(payload, dict):
        inner = payload.get("error")
        if isinstance(inner, dict):
            return str(inner.get("message") or inner)
        if isinstance(inner, str):
            return inner
        if "message" in payload:
            return str(payload["message"])
        if "detail" in payload:
            detail = payload["detail"]
            return detail if isinstance(detail, str) else json.dumps(detail)
    return str(payload)


def is_error_payload(payload: object) -> bool:
    """Whether a streamed chunk is an error rather than a completion chunk."""
    return isinstance(payload, dict) and ("error" in payload or payload.get("object") == "error")


def from_status(status: int, body: bytes, headers: Mapping[str, str]) -> LLMError:
    """Map an HTTP error response to an LLMError."""
    try:
        detail = error_text(json.loads(body))
    except (ValueError, RecursionError):  # RecursionError: nested past the parser's depth.
        detail = body.decode("utf-8", "replace").strip()
    detail = f"HTTP {status}: {detail[:2000]}"
    retry_after = parse_retry_after(headers)
    if status == 401:
        message = "The model provider rejected the API key."
    elif status == 402:
        message = "The model provider account has run out of credit."
    elif status == 403:
        message = "The model provider refused access to this model."
    elif status == 404:
        message = "The model provider does not know this model."
    elif status in (400, 413, 422):
        message = "The model provider rejected the request."
    elif status == 429:
        if retry_after is not None:
            message = f"Rate limited, try again in {max(1, round(retry_after))} s."
        else:
            message = "Rate limited by the model provider, try again shortly."
    elif status >= 500:
        message = f"The model provider had an error (HTTP {status})."
    else:
        message = f"The model provider answered HTTP {status}."
    return LLMError(
        message,
        detail=detail,
        status=status,
        retry_after=retry_after,
        retryable=status in RETRYABLE_STATUSES,
    )


def from_transport(exc: Exception) -> LLMError:
    """Map a network failure (httpx2's or aiohttp's, a timeout, a response that could not be
    parsed) to an LLMError."""
    # httpx-aiohttp maps aiohttp's errors loosely (a server that closed the connection
    # before answering becomes a ConnectTimeout): the error aiohttp raised decides.
    if isinstance(exc.__cause__, aiohttp.ClientError):
        exc = exc.__cause__
    if isinstance(exc, UNREACHABLE):
        message = "Could not reach the model provider."
    elif isinstance(exc, TimeoutError | httpx2.TimeoutException):
        message = "The model provider stopped responding."
    else:
        message = "The connection to the model provider was lost."
    return LLMError(message, detail=f"{type(exc).__name__}: {exc}", retryable=True)
