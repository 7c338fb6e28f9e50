"""Export: one conversation or all of a user's as JSON (every version), or Markdown. A
message's files are described in the JSON; their bytes go in the export zip
(portability/attached.py)."""

from django.contrib.auth.models import AbstractBaseUser

from .. import model_input, selectors
from ..llm import ToolCall
from ..models import Conversation, Message
from ..projects import selectors as project_selectors
from ..projects.models import Project
from ..prompts import selectors as prompt_selectors
from ..tags import selectors as tag_selectors
from . import selectors as portability_selectors
from .attached import file_entry
from .schema import FORMAT_ALL, FORMAT_ONE, VERSION

TREE_FIELDS = (
    "role",
    "content",
    "reasoning",
    "status",
    "model",
    "finish_reason",
    "error",
    "tool_calls",
    "tool_call_id",
    "tool_name",
    "prompt_tokens",
    "completion_tokens",
)


def export_conversation(conversation: Conversation) -> dict:
    """One conversation: what its next turn would send (`messages`) and the whole tree."""
    tree = portability_selectors.conversation_tree(conversation=conversation)
    files = portability_selectors.message_files(message_ids=[m.pk for m in tree])
    return {
        "format": FORMAT_ONE,
        "version": VERSION,
        **portability_selectors.conversation_export(conversation=conversation),
        "created_at": conversation.created_at.isoformat(),
        "updated_at": conversation.updated_at.isoformat(),
        "pinned": conversation.pinned,
        "archived": conversation.archived,
        # Only in a project: an export without projects reads as before.
        **({"project": project_entry(conversation.project)} if conversation.project_id else {}),
        "tags": tag_selectors.conversation_tag_names(conversation),  # Its owner's, by name.
        "current": conversation.current_leaf_id,
        "tree": [
            {
                "id": m.pk,
                "parent": m.parent_id,
                **{name: getattr(m, name) for name in TREE_FIELDS},
                "created_at": m.created_at.isoformat(),
                # Only where there are some: an export without files reads as before.
                **({"files": [file_entry(a) for a in files[m.pk]]} if m.pk in files else {}),
            }
            for m in tree
        ],
    }


def export_all(user: AbstractBaseUser) -> dict:
    """Every conversation of a user, archived ones included."""
    conversations = portability_selectors.conversation_list_all(user=user)
    return {
        "format": FORMAT_ALL,
        "version": VERSION,
        # Every project, empty ones too; each conversation names its own again.
        "projects": [
            project_entry(p)
            for p in project_selectors.project_list(user=user).select_related("default_persona")
        ],
        "conversations": [export_conversation(c) for c in conversations],
        # The user's own prompts only: shared ones are staff's, and stay on the server.
        "prompts": [
            {"command": p.command, "title": p.title, "text": p.text}
            for p in prompt_selectors.prompt_list_own(user=user)
        ],
    }


def project_entry(project: Project) -> dict:
    """A project as an export carries it (schema.ProjectIn reads it back)."""
    persona = project.default_persona
    return {
        "name": project.name,
        "instructions": project.instructions,
        "default_persona": {"id": persona.pk, "name": persona.name} if persona else None,
        "default_model": project.default_model,
        "default_tools": list(project.default_tools),
    }


def export_markdown(conversation: Conversation) -> str:
    """The active branch as a readable Markdown document."""
    lines = [f"# {conversation.title or 'Conversation'}", ""]
    facts = [f"Model: {selectors.conversation_model(conversation)[0]}"]
    if conversation.persona:
        facts.append(f"Persona: {conversation.persona.name}")
    facts.append(f"Started: {conversation.created_at:%Y-%m-%d %H:%M} UTC")
    lines += [" · ".join(facts), ""]
    system = model_input.conversation_system_message(conversation)
    if system is not None:
        lines += ["**System**", "", system.content, ""]
    branch = selectors.message_branch(conversation=conversation)
    files = portability_selectors.message_files(message_ids=[m.pk for m in branch])
    for message in branch:
        if message.role == Message.Role.TOOL:
            lines += [
                f"> **Tool result** `{message.tool_name}`:",
                ">",
                *[f"> {line}" for line in message.content.splitlines()],
                "",
            ]
            continue
        speaker = (
            "You"
            if message.role == Message.Role.USER
            else f"Assistant ({message.model or 'model'})"
        )
        lines += [f"**{speaker}**", ""]
        for attachment in files.get(message.pk, []):
            lines += [
                f"> Attached: {attachment.name} ({attachment.kind}, {attachment.size:,} bytes)",
                "",
            ]
        for call in map(ToolCall.from_stored, message.tool_calls or []):
            lines += [f"> Called `{call.name}` with `{call.arguments}`", ""]
        if message.content:
            lines += [message.content, ""]
        if message.status not in (Message.Status.COMPLETE, Message.Status.STREAMING):
            lines += [f"_({message.status}{': ' + message.error if message.error else ''})_", ""]
    return "\n".join(lines).rstrip() + "\n"
