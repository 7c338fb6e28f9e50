"""What a model is sent of a conversation: saved messages as the wire's ChatMessage (tool
calls in their stored shape, llm.ToolCall), and the system message a persona, the
conversation's own prompt and the user's custom instructions make."""

from django.conf import settings

from .files.models import Attachment
from .files.selectors import attachment_open
from .files.services import file_block
from .llm import ChatMessage, ImagePart, TextPart, ToolCall
from .models import Conversation, Message
from .personas.models import Persona


def chat_message(message: Message) -> ChatMessage | None:
    """A saved message as a request carries it, or None when it says nothing.

    Reasoning is never sent back: only `content`, and tool calls and results.
    """
    if message.role == Message.Role.TOOL:
        return ChatMessage("tool", message.content, tool_call_id=message.tool_call_id)
    if message.role == Message.Role.ASSISTANT:
        if message.tool_calls:
            return ChatMessage("assistant", message.content, tool_calls=tool_calls_of(message))
        if not message.content:
            return None  # A reply that failed before its first token says nothing.
    files = getattr(message, "files", None) if message.role == Message.Role.USER else None
    if files:
        return _with_files(message, files)
    return ChatMessage(message.role, message.content)


def _with_files(message: Message, files: list[Attachment]) -> ChatMessage:
    """A user message with its files (docs/protocol.md, "What the model is sent"): each
    text file as a block before the user's words; images, if any, as parts after them.
    Reads the images' stored bytes (a sync read: call it off the event loop)."""
    text = "".join(file_block(f) for f in files if f.kind != Attachment.Kind.IMAGE)
    text += message.content
    images = [f for f in files if f.kind == Attachment.Kind.IMAGE]
    if not images:
        return ChatMessage("user", text)
    parts: list[TextPart | ImagePart] = [TextPart(text)]
    for image in images:
        with attachment_open(image) as stored:
            data = stored.read(settings.CHAT_MAX_FILE_BYTES * 4 + 1)  # Bounded: re-encoded.
        parts.append(ImagePart(image.content_type, data, image.tokens))
    return ChatMessage("user", tuple(parts))


def tool_calls_of(message: Message) -> tuple[ToolCall, ...]:
    """The tool calls an assistant message made, as saved."""
    return tuple(ToolCall.from_stored(call) for call in message.tool_calls or [])


def system_message(
    persona: Persona | None, instructions: str = "", project: str = ""
) -> ChatMessage | None:
    """The first message: the persona's system prompt, then the project's instructions
    (`project`, under its heading: project_part), then the user's custom instructions (a
    blank line between each), if there is any of them."""
    parts = []
    if persona and persona.system_prompt.strip():
        parts.append(persona.system_prompt)  # As written: what was sent stays exact.
    return _joined(parts, project, instructions)


def _joined(parts: list[str], project: str, instructions: str) -> ChatMessage | None:
    if project:
        parts.append(project)
    if instructions.strip():
        parts.append(instructions.strip())
    return ChatMessage("system", "\n\n".join(parts)) if parts else None


def project_part(conversation: Conversation) -> str:
    """The project's instructions as the system message carries them: under a heading that
    names the project, so the model (and the reader of what was sent) can tell them from
    the persona's prompt; "" outside a project or when it has none. Reads the project if
    the caller did not load it (turns/sql.py does)."""
    if conversation.project_id is None:
        return ""
    project = conversation.project
    if project is None or not project.instructions.strip():
        return ""
    return f"## Project: {project.name}\n\n{project.instructions.strip()}"


def conversation_system_message(
    conversation: Conversation, instructions: str = ""
) -> ChatMessage | None:
    """The first message: the conversation's own system prompt, else its persona's; then
    its project's instructions; then the user's custom instructions (a blank line between
    each), if there is any of them."""
    project = project_part(conversation)
    if not conversation.system_prompt.strip():
        return system_message(conversation.persona, instructions, project)
    return _joined([conversation.system_prompt], project, instructions)  # As written.


def upstream_messages(
    *, conversation: Conversation, branch: list[Message], instructions: str = ""
) -> list[ChatMessage]:
    """The whole message list for a branch: system prompt, then every message that says something."""
    system = conversation_system_message(conversation, instructions)
    said = [m for m in (chat_message(message) for message in branch) if m is not None]
    return ([system] if system else []) + said
