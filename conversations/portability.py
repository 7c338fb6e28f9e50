"""Take it with you: export conversations (JSON with the full tree, Markdown) and import
our own export or ChatGPT's `conversations.json`, all or nothing."""

import json
from datetime import UTC, datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils.dateparse import parse_datetime

from . import selectors
from .models import Conversation, Message

FORMAT_ONE = "chatsite.conversation"
FORMAT_ALL = "chatsite.export"
VERSION = 1
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


class ImportFailed(Exception):
    """A file that cannot be imported; nothing was saved."""


def export_conversation(conversation: Conversation) -> dict:
    """One conversation: what its next turn would send (`messages`) and the whole tree."""
    tree = selectors.conversation_tree(conversation=conversation)
    return {
        "format": FORMAT_ONE,
        "version": VERSION,
        **selectors.conversation_export(conversation=conversation),
        "created_at": conversation.created_at.isoformat(),
        "pinned": conversation.pinned,
        "archived": conversation.archived,
        "current": conversation.current_leaf_id,
        "tree": [
            {
                "id": m.pk,
                "parent": m.parent_id,
                **{name: getattr(m, name) for name in TREE_FIELDS},
                "created_at": m.created_at.isoformat(),
            }
            for m in tree
        ],
    }


def export_all(user: AbstractBaseUser) -> dict:
    """Every conversation of a user, archived ones included."""
    conversations = selectors.conversation_list_all(user=user)
    return {
        "format": FORMAT_ALL,
        "version": VERSION,
        "conversations": [export_conversation(c) for c in conversations],
    }


def export_markdown(conversation: Conversation) -> str:
    """The active branch as a readable Markdown document."""
    lines = [f"# {conversation.title or 'Conversation'}", ""]
    facts = [f"Model: {selectors.conversation_model(conversation)[0]}"]
    if conversation.persona:
        facts.append(f"Persona: {conversation.persona.name}")
    facts.append(f"Started: {conversation.created_at:%Y-%m-%d %H:%M} UTC")
    lines += [" · ".join(facts), ""]
    system = selectors.conversation_system_message(conversation)
    if system is not None:
        lines += ["**System**", "", system.content, ""]
    for message in selectors.message_branch(conversation=conversation):
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
        for call in message.tool_calls or []:
            lines += [f"> Called `{call['name']}` with `{call['arguments']}`", ""]
        if message.content:
            lines += [message.content, ""]
        if message.status not in (Message.Status.COMPLETE, Message.Status.STREAMING):
            lines += [f"_({message.status}{': ' + message.error if message.error else ''})_", ""]
    return "\n".join(lines).rstrip() + "\n"


def import_file(*, user: AbstractBaseUser, data: bytes) -> list[Conversation]:
    """Import a file of ours or ChatGPT's; every conversation or none."""
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ImportFailed(f"The file is not valid JSON ({exc}).") from exc
    if isinstance(document, dict) and document.get("format") == FORMAT_ONE:
        items, reader = [document], _read_ours
    elif isinstance(document, dict) and document.get("format") == FORMAT_ALL:
        items, reader = document.get("conversations"), _read_ours
    elif isinstance(document, list) and all(
        isinstance(c, dict) and "mapping" in c for c in document
    ):
        items, reader = document, _read_chatgpt
    elif isinstance(document, dict) and "mapping" in document:
        items, reader = [document], _read_chatgpt
    else:
        raise ImportFailed(
            "This is neither an export from this app nor ChatGPT's conversations.json."
        )
    if not isinstance(items, list) or not items:
        raise ImportFailed("The file holds no conversations.")
    with transaction.atomic():
        return [_save(user, *reader(item, number)) for number, item in enumerate(items, 1)]


def _read_ours(item: dict, number: int) -> tuple[dict, list[dict], object]:
    tree = item.get("tree")
    if not isinstance(tree, list):
        raise ImportFailed(f"Conversation {number} has no message tree.")
    for node in tree:
        if (
            not isinstance(node, dict)
            or "id" not in node
            or node.get("role") not in Message.Role.values
        ):
            raise ImportFailed(
                f"Conversation {number} has a message without an id or a known role."
            )
        if not isinstance(node.get("content", ""), str):
            raise ImportFailed(f"Conversation {number} has a message whose content is not text.")
    meta = {
        "title": str(item.get("title") or "Imported conversation")[:200],
        "model": str(item.get("model") or "")[:200],
        "created_at": item.get("created_at"),
        "pinned": bool(item.get("pinned")),
        "archived": bool(item.get("archived")),
        "persona": item.get("persona") if isinstance(item.get("persona"), dict) else None,
    }
    nodes = [
        {
            "key": node["id"],
            "parent": node.get("parent"),
            "created_at": node.get("created_at"),
            **{name: node.get(name) for name in TREE_FIELDS if node.get(name) is not None},
        }
        for node in tree
    ]
    return meta, nodes, item.get("current")


def _read_chatgpt(item: dict, number: int) -> tuple[dict, list[dict], object]:
    mapping = item.get("mapping")
    if not isinstance(mapping, dict):
        raise ImportFailed(f"Conversation {number} has no message mapping.")
    kept: dict[str, dict] = {}

    def nearest_kept(node_id):
        seen = set()
        while node_id is not None and node_id not in kept and node_id not in seen:
            seen.add(node_id)
            node_id = (mapping.get(node_id) or {}).get("parent")
        return node_id if node_id in kept else None

    # Parents before children: walk the tree from its roots.
    order, stack = (
        [],
        [k for k, v in mapping.items() if isinstance(v, dict) and v.get("parent") not in mapping],
    )
    while stack:
        node_id = stack.pop(0)
        order.append(node_id)
        stack.extend((mapping.get(node_id) or {}).get("children") or [])
    for node_id in order:
        node = mapping.get(node_id) or {}
        message = node.get("message")
        text = _chatgpt_text(message) if isinstance(message, dict) else None
        role = ((message or {}).get("author") or {}).get("role")
        hidden = ((message or {}).get("metadata") or {}).get("is_visually_hidden_from_conversation")
        if text is None or role not in ("user", "assistant", "tool", "system") or hidden:
            continue
        if role == "system" and not text.strip():
            continue
        kept[node_id] = {
            "key": node_id,
            "parent": nearest_kept(node.get("parent")),
            "role": role,
            "content": text,
            "model": ((message.get("metadata") or {}).get("model_slug") or "")[:200],
            "created_at": _from_timestamp(message.get("create_time")),
        }
    if not kept:
        raise ImportFailed(f"Conversation {number} has no messages to import.")
    meta = {
        "title": str(item.get("title") or "Imported from ChatGPT")[:200],
        "model": "",
        "created_at": _from_timestamp(item.get("create_time")),
        "pinned": False,
        "archived": bool(item.get("is_archived")),
    }
    current = nearest_kept(item.get("current_node"))
    return meta, list(kept.values()), current


def _chatgpt_text(message: dict) -> str | None:
    content = message.get("content") or {}
    if isinstance(content.get("parts"), list):
        parts = [p if isinstance(p, str) else "[attachment]" for p in content["parts"]]
        return "\n".join(parts)
    if isinstance(content.get("text"), str):
        return content["text"]
    return None


def _from_timestamp(value) -> str | None:
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, tz=UTC).isoformat()
    return None


def _save(user: AbstractBaseUser, meta: dict, nodes: list[dict], current) -> Conversation:
    persona = None
    if meta.get("persona") and isinstance(meta["persona"].get("id"), int):
        # Keep the link only to a persona this user may use, under the same name.
        persona = selectors.persona_get(user=user, persona_id=meta["persona"]["id"])
        if persona and persona.name != meta["persona"].get("name"):
            persona = None
    conversation = Conversation.objects.create(
        owner=user,
        persona=persona,
        title=meta["title"],
        model=meta["model"],
        pinned=meta["pinned"],
        archived=meta["archived"],
        title_source=Conversation.TitleSource.USER,
    )
    saved: dict = {}
    pending = list(nodes)
    while pending:  # Parents first, whatever order the file lists them in.
        ready = [n for n in pending if n["parent"] is None or n["parent"] in saved]
        if not ready:
            raise ImportFailed("The message tree has a message whose parent is missing.")
        for node in ready:
            fields = {name: node[name] for name in TREE_FIELDS if name in node}
            fields["status"] = fields.get("status") or Message.Status.COMPLETE
            if fields["status"] in (Message.Status.STREAMING, Message.Status.PENDING):
                fields["status"] = Message.Status.INTERRUPTED
            message = Message.objects.create(
                conversation=conversation, parent=saved.get(node["parent"]), **fields
            )
            stamp = parse_datetime(node["created_at"]) if node.get("created_at") else None
            if stamp:
                Message.objects.filter(pk=message.pk).update(created_at=stamp)
            saved[node["key"]] = message
        pending = [n for n in pending if n["key"] not in saved]
    leaf = saved.get(current) or (saved[nodes[-1]["key"]] if nodes else None)
    created = parse_datetime(meta["created_at"]) if meta.get("created_at") else None
    Conversation.objects.filter(pk=conversation.pk).update(
        current_leaf=leaf, **({"created_at": created} if created else {})
    )
    conversation.refresh_from_db()
    return conversation
