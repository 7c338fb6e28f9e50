"""Request bodies refused at the server, before they are read.

Twisted reads a request's whole body (spooling it to a temporary file) and daphne queues
all of it for the app before the app runs: by the time Django could look at a size, a
900 MB body has already been taken in. This request class decides the cap as soon as the
headers have arrived, answers 413 and closes the connection: at once when Content-Length
is over the cap, and as soon as the count of bytes passes it for a chunked body.

Caps (settings): HTTP_MAX_BODY_ANONYMOUS for a request without the session cookie (the
cookie's presence is all the server can see; a forged one only earns the general cap),
HTTP_MAX_BODY_IMPORT for the import page, HTTP_MAX_BODY_FILES for a file's upload,
HTTP_MAX_BODY for the rest.
"""

import io
import logging
from functools import cache

from daphne.http_protocol import HTTPFactory, WebRequest
from django.conf import settings
from django.urls import reverse

logger = logging.getLogger(__name__)

TOO_LARGE_BODY = b"The request body is too large.\n"
TOO_LARGE = (
    b"HTTP/1.1 413 Content Too Large\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Content-Length: %d\r\n"
    b"Connection: close\r\n\r\n" % len(TOO_LARGE_BODY)
) + TOO_LARGE_BODY


@cache
def _import_path() -> bytes:
    return reverse("import").encode()


@cache
def _upload_path() -> bytes:
    return reverse("file-upload").encode()


def body_cap(path: bytes, cookies: dict[bytes, bytes]) -> int:
    """The largest body a request to `path` with these cookies may send."""
    if settings.SESSION_COOKIE_NAME.encode() not in cookies:
        return settings.HTTP_MAX_BODY_ANONYMOUS
    if path.split(b"?", 1)[0] == _import_path():
        return settings.HTTP_MAX_BODY_IMPORT
    if path.split(b"?", 1)[0] == _upload_path():
        return settings.HTTP_MAX_BODY_FILES
    return settings.HTTP_MAX_BODY


class CappedRequest(WebRequest):
    """daphne's request, refusing a body over its cap before reading it."""

    body_cap = 0
    body_received = 0
    refused = False

    def gotLength(self, length: int | None) -> None:
        # Called once the headers are in (cookies parsed), before any of the body.
        # The request line's path is the channel's until the body is complete.
        path = getattr(self.channel, "_path", b"") or b""
        self.body_cap = body_cap(path, self.received_cookies)
        if length is not None and length > self.body_cap:
            self._refuse(path, length)
            return
        super().gotLength(length)

    def handleContentChunk(self, data: bytes) -> None:
        if self.refused:
            return
        self.body_received += len(data)
        if self.body_received > self.body_cap:
            self._refuse(getattr(self.channel, "_path", b""), self.body_received)
            return
        super().handleContentChunk(data)

    def _refuse(self, path: bytes, size: int) -> None:
        self.refused = True
        self.content = io.BytesIO()  # Nothing more is kept.
        # No "100 Continue" after this answer (Twisted sends it after gotLength).
        self.requestHeaders.removeHeader(b"expect")
        logger.warning(
            "Refused a request body of %s bytes or more for %r (cap %d)",
            size,
            path[:200].decode("ascii", "replace"),
            self.body_cap,
        )
        self.channel.transport.write(TOO_LARGE)
        # Stops reading at once; what was written still goes out before the close.
        self.channel.loseConnection()


class CappedHTTPFactory(HTTPFactory):
    """daphne's HTTP factory, building connections whose requests are capped."""

    def buildProtocol(self, addr):
        protocol = super().buildProtocol(addr)
        protocol.requestFactory = CappedRequest
        return protocol
