"""The one list of the protocol's frames, by `type`.

The parser (inbound.parse), the socket's handlers (ChatConsumer) and its limits
(socket_limits.SocketLimits.check) all read CLIENT; outbound.py builds SERVER's; PROCESS
are the messages between server processes; schema.py writes all three into
docs/protocol.schema.json.
"""

from dataclasses import dataclass
from typing import Annotated, Literal, Union

from pydantic import BaseModel, Field, TypeAdapter

from . import client, process, server
from .base import frame_type

# What a client frame costs its user besides one of its socket's frames (docs/protocol.md,
# "Limits"): a read or a write (socket_limits.py), a turn (limited where it starts,
# limits/turn_limits.py), or nothing more.
Limit = Literal["read", "write", "turn", "free"]


@dataclass(frozen=True)
class ClientKind:
    """One type of client frame: its model, the ChatConsumer method that handles it, and
    what it costs."""

    model: type[BaseModel]
    handler: str
    limit: Limit

    @property
    def type(self) -> str:
        return frame_type(self.model)


CLIENT: dict[str, ClientKind] = {
    kind.type: kind
    for kind in (
        ClientKind(client.ChatSend, "chat_send", "turn"),
        ClientKind(client.ChatEdit, "chat_send", "turn"),
        ClientKind(client.ChatStop, "chat_stop", "free"),
        ClientKind(client.ToolApprove, "tool_approve", "free"),
        ClientKind(client.ChatRegenerate, "chat_regenerate", "turn"),
        ClientKind(client.ChatContinue, "chat_continue", "turn"),
        ClientKind(client.ChatSwitch, "chat_switch", "read"),
        ClientKind(client.ConversationOpen, "conversation_open", "read"),
        ClientKind(client.ConversationHistoryAsk, "conversation_history", "read"),
        ClientKind(client.ConversationSettings, "conversation_settings", "write"),
        ClientKind(client.ConversationRename, "conversation_rename", "write"),
        ClientKind(client.ConversationPin, "conversation_flags", "write"),
        ClientKind(client.ConversationArchive, "conversation_flags", "write"),
        ClientKind(client.ConversationMove, "conversation_move", "write"),
        ClientKind(client.ConversationDelete, "conversation_delete", "write"),
        ClientKind(client.ConversationTags, "conversation_tags", "write"),
        ClientKind(client.TagRename, "tag_rename", "write"),
        ClientKind(client.TagDelete, "tag_delete", "write"),
        ClientKind(client.ConversationClose, "conversation_close", "write"),
        ClientKind(client.CompareChoose, "compare_choose", "write"),
    )
}

SERVER: dict[str, type[BaseModel]] = {
    frame_type(model): model
    for model in (
        server.ConversationCreated,
        server.ConversationUpdated,
        server.ConversationDeleted,
        server.TagsChanged,
        server.ConversationState,
        server.ConversationHistory,
        server.MessageCreated,
        server.MessageContinued,
        server.MessageDelta,
        server.MessageWaiting,
        server.MessageCompleted,
        server.FramePart,
        server.MessageToolCall,
        server.MessageToolResult,
        server.ToolApprovalRequested,
        server.ToolApprovalSettled,
        server.CompareChosen,
        server.Error,
    )
}

PROCESS: dict[str, type[BaseModel]] = {
    frame_type(model): model
    for model in (
        process.HubFrame,
        process.TurnStop,
        process.TurnApprove,
        process.TurnApprovals,
        process.TurnSnapshot,
        process.TurnAlive,
        process.TurnRunning,
        process.ChatSnapshot,
        process.CatalogChanged,
        process.AccessChanged,
        process.McpChanged,
        process.HealthPing,
        process.SessionEnded,
        process.SessionCheck,
    )
}


def one_of(models: list[type[BaseModel]]) -> object:
    """The union of these models, told apart by `type`."""
    return Annotated[Union[tuple(models)], Field(discriminator="type")]  # noqa: UP007


ClientFrame = one_of([kind.model for kind in CLIENT.values()])
ServerFrame = one_of(list(SERVER.values()))
ProcessMessage = one_of(list(PROCESS.values()))

# A server frame as it reaches a browser, checked (the tests check every frame they receive).
SERVER_FRAME: TypeAdapter = TypeAdapter(ServerFrame)
# A message from another process, checked before it is acted on.
PROCESS_MESSAGE: TypeAdapter = TypeAdapter(ProcessMessage)
