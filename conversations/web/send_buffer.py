"""Websockets whose client does not read are dropped, not buffered without end.

daphne hands every frame the app sends straight to Twisted's transport, which keeps what
the client has not taken yet in memory, without limit: 500 sockets that never read held
a gigabyte between them. Here, before each frame the app sends, the connection's unsent
bytes are counted; past CHAT_SOCKET_SEND_BUFFER the connection is aborted, which frees
its buffer at once (a close frame would only queue behind what the client is not
reading). The app then sees the socket disconnect, like any other that goes away.

The check comes before a frame, never inside one: a frame too large for one websocket
message goes as parts (chat/consumer.py), and the parts after the first say so
(`"continues": true` beside the ASGI message's text), so a long reply's final frame is
sent whole to a client that reads, however large.
"""

import logging

from daphne.ws_protocol import WebSocketFactory, WebSocketProtocol
from django.conf import settings

logger = logging.getLogger(__name__)


def unsent_bytes(transport) -> int:
    """Bytes written to a connection that have not reached the kernel yet.

    Twisted's descriptors keep them in `dataBuffer` (sent up to `offset`) and in a list of
    later writes (`_tempDataLen` bytes): no public call tells the size. TLS wraps the TCP
    transport, whose buffer is the one that grows.
    """
    while not hasattr(transport, "dataBuffer") and hasattr(transport, "transport"):
        transport = transport.transport
    data = getattr(transport, "dataBuffer", b"")
    return len(data) - getattr(transport, "offset", 0) + getattr(transport, "_tempDataLen", 0)


class BoundedWebSocketProtocol(WebSocketProtocol):
    """daphne's websocket protocol, dropping a client that lets too much go unread."""

    dropped = False

    def handle_reply(self, message: dict) -> None:
        if message.get("type") == "websocket.send" and self.state == self.STATE_OPEN:
            if self.dropped:
                return
            limit = settings.CHAT_SOCKET_SEND_BUFFER
            if not message.get("continues") and limit > 0:
                unsent = unsent_bytes(self.transport)
                if unsent > limit:
                    self._drop(unsent, limit)
                    return
        super().handle_reply(message)

    def _drop(self, unsent: int, limit: int) -> None:
        self.dropped = True
        logger.warning(
            "Dropped a websocket whose client left %d bytes unread (limit %d)", unsent, limit
        )
        self.transport.abortConnection()


class BoundedWebSocketFactory(WebSocketFactory):
    """daphne's websocket factory, building bounded protocols."""

    protocol = BoundedWebSocketProtocol
