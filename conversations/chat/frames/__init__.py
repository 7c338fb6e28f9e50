"""The protocol's frames, typed (pydantic): what a browser sends, what the server sends
back, and what server processes send each other; one registry of them; and the JSON
Schema made from them (docs/protocol.schema.json: `python -m conversations.chat.frames`).

Nothing here imports Django, so any layer may use it.
"""

from .base import frame_type
from .registry import (
    CLIENT,
    PROCESS,
    PROCESS_MESSAGE,
    SERVER,
    SERVER_FRAME,
    ClientFrame,
    ClientKind,
    Limit,
    ProcessMessage,
    ServerFrame,
)

__all__ = [
    "CLIENT",
    "PROCESS",
    "PROCESS_MESSAGE",
    "SERVER",
    "SERVER_FRAME",
    "ClientFrame",
    "ClientKind",
    "Limit",
    "ProcessMessage",
    "ServerFrame",
    "frame_type",
]
