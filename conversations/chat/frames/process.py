"""Messages between server processes, over the channel layer (docs/architecture.md,
"Between processes"). Never sent to a browser.

Each process builds them through these models and checks what it receives against them
(runtime.Runtime._on_control): a message of another shape, from a process of another
version say, is dropped and logged, never half understood.
"""

from typing import Annotated, Any, Literal

from pydantic import Field

from .base import Received
from .server import Waiting


class HubFrame(Received):
    """A frame published in one process, for the sockets of a group in the others."""

    type: Literal["hub.frame"] = "hub.frame"
    group: str  # broadcast.group_name or broadcast.user_group_name.
    origin: str  # The publishing process (its own copy is not delivered twice); "" for none.
    frame: dict[str, Any]  # A server frame, or a session event.


class TurnStop(Received):
    """Stop the turn running in a conversation (to the process that runs it)."""

    type: Literal["turn.stop"] = "turn.stop"
    conversation: int
    message: int | None = None  # One reply of a compare; None: all of the turn's.


class TurnApprove(Received):
    """The user's answer to a pending tool approval (to the process that runs the turn)."""

    type: Literal["turn.approve"] = "turn.approve"
    conversation: int
    call_id: str
    approve: bool


class TurnApprovals(Received):
    """Send the turn's pending approvals (`tool.approval_requested`) to `reply_to`."""

    type: Literal["turn.approvals"] = "turn.approvals"
    conversation: int
    reply_to: Annotated[str, Field(min_length=1)]  # A socket's channel.


class TurnSnapshot(Received):
    """Send the reply streaming in a conversation so far (`chat.snapshot`) to `reply_to`."""

    type: Literal["turn.snapshot"] = "turn.snapshot"
    conversation: int
    reply_to: Annotated[str, Field(min_length=1)]  # A socket's channel.


class TurnAlive(Received):
    """Does a process still run this conversation's turn? Its lease has expired."""

    type: Literal["turn.alive"] = "turn.alive"
    conversation: int
    reply_to: Annotated[str, Field(min_length=1)]  # The asking process's control channel.


class TurnRunning(Received):
    """The answer to `turn.alive`: the turn runs here, do not interrupt it."""

    type: Literal["turn.running"] = "turn.running"
    conversation: int


class ChatSnapshot(Received):
    """A streaming reply as its frames so far have shown it (the answer to `turn.snapshot`,
    to the socket that asked; a process also reads its own turns' this way)."""

    type: Literal["chat.snapshot"] = "chat.snapshot"
    conversation: int
    message: int | None  # None between a turn's replies.
    content: str
    reasoning: str
    seq: int
    stable: int
    html: str
    waiting: Waiting | None


class CatalogChanged(Received):
    """Staff changed the models: read them again."""

    type: Literal["catalog.changed"] = "catalog.changed"


class AccessChanged(Received):
    """Who may use what changed (a rule, or the members of a group a rule names): read the
    rules again."""

    type: Literal["access.changed"] = "access.changed"


class McpChanged(Received):
    """Staff changed the MCP servers: read them and list their tools again."""

    type: Literal["mcp.changed"] = "mcp.changed"


class HealthPing(Received):
    """The health check's round trip through the channel layer."""

    type: Literal["health.ping"] = "health.ping"


class SessionEnded(Received):
    """A logout, for the user's sockets: those opened with this session close."""

    type: Literal["session.ended"] = "session.ended"
    session_key: str


class SessionCheck(Received):
    """The account changed: the user's sockets check their session now."""

    type: Literal["session.check"] = "session.check"
