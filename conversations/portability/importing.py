"""Import: our own JSON export (or its zip, with the files), or ChatGPT's
`conversations.json`.

A file is read and checked whole before anything is saved, in bounded time and memory:
its size, how many JSON values it holds (before parsing), its nesting (while parsing),
every field (schema.py), and its message trees (no cycle, no message that is its own
parent, no message claimed by two parents). Then each conversation is saved in one short
transaction of its own (portability/services.py): a failure there stops the import and
says which conversation, and never leaves a conversation half saved.

One module over 400 lines, on purpose: the two readers (ours, ChatGPT's) share the checks
and the failure they raise with the flow that calls them, and each check is only a few
lines; split, each half would import the other.
"""

import hashlib
import io
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import DatabaseError
from pydantic import BaseModel, ValidationError
from pydantic_core import from_json

from ..llm import ToolCall
from ..models import Conversation, Message
from ..personas import selectors as persona_selectors
from ..projects.models import Project
from ..prompts import services as prompt_services
from . import attached, projects_import
from . import selectors as portability_selectors
from . import services as portability_services
from .archive import ArchiveRefused, is_zip, open_archive
from .schema import (
    FORMAT_ALL,
    FORMAT_ONE,
    MAX_PROJECTS,
    MAX_TEXT_CHARS,
    SAVED_STATUS,
    VERSION,
    ChatGPTConversation,
    ChatGPTMessage,
    ConversationIn,
    NewConversation,
    NewMessage,
    ProjectIn,
    PromptsIn,
)

logger = logging.getLogger(__name__)

# Parsed JSON costs far more memory than its text: three million values is already a
# few hundred MB of Python objects, and far more than 50 MB of real conversations holds.
MAX_JSON_VALUES = 3_000_000
# Whole JSON strings (escapes included), to count values outside them at C speed.
_STRINGS = re.compile(rb'"(?:[^"\\]++|\\.)*+"')


class ImportFailed(Exception):
    """A file that cannot be imported, and the HTTP status that says so; nothing was saved."""

    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class ImportIncomplete(ImportFailed):
    """Saving stopped at one conversation (a database failure); the ones before it were
    saved, and nothing of it."""

    def __init__(self, message: str, saved: list[Conversation], *, status: int = 500) -> None:
        super().__init__(message, status=status)
        self.saved = saved


class ImportDuplicates(Exception):
    """Some conversations in the file were imported before, and the caller asked to be told
    (duplicates="ask"); nothing was saved."""

    def __init__(self, titles: list[str], total: int) -> None:
        super().__init__(f"{len(titles)} of {total} conversations were imported before.")
        self.titles = titles  # Of the ones already here, as they are titled here now.
        self.total = total


DUPLICATE_CHOICES = ("ask", "skip", "copy")


@dataclass(frozen=True)
class Imported:
    """What an import saved: its conversations, and how many new prompts."""

    conversations: list[Conversation]
    prompts: int


def import_file(
    *, user: AbstractBaseUser, data: bytes, duplicates: str = "copy"
) -> list[Conversation]:
    """The conversations `import_document` saved (prompts are saved too, uncounted)."""
    return import_document(user=user, data=data, duplicates=duplicates).conversations


def import_document(*, user: AbstractBaseUser, data: bytes, duplicates: str = "copy") -> Imported:
    """Check a whole file, then save its prompts, and its conversations one short
    transaction each.

    Conversations imported before (the same messages: `conversation_fingerprint`) are
    imported again as copies (duplicates="copy"), left out ("skip"), or, with "ask",
    nothing is saved and ImportDuplicates says which.
    """
    archive = None
    if is_zip(data):
        try:
            archive = open_archive(io.BytesIO(data))
        except ArchiveRefused as exc:
            raise ImportFailed(str(exc)) from None
        data = archive.document
    projects: list[ProjectIn] = []
    conversations, prompts = read_document(data, projects)
    if archive is None:
        attached.without_files(conversations)
    for conversation in conversations:
        conversation.fingerprint = conversation_fingerprint(conversation)
        conversation.created_at, conversation.updated_at = conversation_dates(conversation)
    if duplicates != "copy":
        conversations = _new_ones(user, conversations, ask=duplicates == "ask")
    with attached.staging_folder() as folder:
        if archive is not None:
            try:
                attached.stage(
                    user=user, conversations=conversations, archive=archive, folder=folder
                )
            except attached.FilesRefused as exc:
                raise ImportFailed(str(exc)) from None
        added = 0
        if prompts:  # Before any conversation: past the user's bound, nothing is saved.
            try:
                added = prompt_services.prompts_import(owner=user, prompts=prompts)
            except prompt_services.PromptLimitReached as exc:
                raise ImportFailed(f"The file's prompts cannot be imported: {exc}") from None
        places = projects_import.projects_for(
            user=user, listed=projects, conversations=conversations
        )
        return Imported(_save(user, conversations, folder, places), added)


def save_checked(
    *, user: AbstractBaseUser, conversations: list[NewConversation], folder: str
) -> list[Conversation]:
    """Save conversations built and checked elsewhere (a shared one continued), their files
    staged in `folder` by id, as an import's are saved."""
    return _save(user, conversations, folder)


def _save(
    user: AbstractBaseUser,
    conversations: list[NewConversation],
    folder: str,
    places: dict[str, Project] | None = None,
) -> list[Conversation]:
    """Each conversation in a transaction of its own, its files stored with it, in its
    project (`places`, by name) if it names one."""
    places = places or {}
    saved: list[Conversation] = []
    for number, conversation in enumerate(conversations, 1):
        persona = None
        if conversation.persona is not None:
            # Keep the link only to a persona this user may use, under the same name.
            persona = persona_selectors.persona_get(user=user, persona_id=conversation.persona.id)
            if persona and persona.name != conversation.persona.name:
                persona = None
        made: dict = {}
        try:
            attached.upload_all(user=user, conversation=conversation, folder=folder, made=made)
            saved.append(
                portability_services.conversation_import(
                    owner=user,
                    conversation=conversation,
                    persona=persona,
                    files=made,
                    project=places.get(conversation.project.name) if conversation.project else None,
                )
            )
        except attached.FilesRefused as exc:
            attached.discard(user=user, made=made)
            raise ImportIncomplete(
                f"Conversation {number} (“{conversation.title}”) could not be saved: {exc} "
                f"The import stopped there: {len(saved)} of {len(conversations)} "
                "conversations were imported, and nothing of that one or the ones after it.",
                saved,
                status=400,
            ) from None
        except DatabaseError as exc:
            attached.discard(user=user, made=made)
            logger.warning(
                "Import stopped at conversation %d of %d: %s",
                number,
                len(conversations),
                type(exc).__name__,
            )
            raise ImportIncomplete(
                f"Conversation {number} (“{conversation.title}”) could not be saved, so the "
                f"import stopped there: {len(saved)} of {len(conversations)} conversations "
                "were imported, and nothing of that one or the ones after it.",
                saved,
            ) from exc
        except BaseException:
            attached.discard(user=user, made=made)
            raise
    return saved


def _new_ones(
    user: AbstractBaseUser, conversations: list[NewConversation], *, ask: bool
) -> list[NewConversation]:
    """The conversations not imported before (each once, should a file repeat one); with
    `ask`, ImportDuplicates instead when there are any that were."""
    prints = [conversation.fingerprint for conversation in conversations]
    before = portability_selectors.conversations_imported_before(user=user, fingerprints=prints)
    if before and ask:
        in_file_order = list(dict.fromkeys(fp for fp in prints if fp in before))
        raise ImportDuplicates([before[fp].title for fp in in_file_order], len(conversations))
    known, kept = set(before), []
    for conversation in conversations:
        if conversation.fingerprint not in known:
            known.add(conversation.fingerprint)
            kept.append(conversation)
    return kept


def conversation_fingerprint(conversation: NewConversation) -> str:
    """What makes two imports the same conversation: every message's role and text, and
    which message it follows, in the order the file gives them (titles and dates may
    change; the messages are the conversation)."""
    digest = hashlib.sha256()
    for message in conversation.messages:
        item = [message.fields.get("role"), message.fields.get("content") or "", message.parent]
        text = json.dumps(item, ensure_ascii=False, separators=(",", ":"))
        digest.update(text.encode("utf-8", "surrogatepass") + b"\n")
    return digest.hexdigest()


def conversation_dates(conversation: NewConversation) -> tuple[datetime | None, datetime | None]:
    """(created, last active) from the file: its own dates, else its messages' first and
    last; None where it has none, so the time of the import stays."""
    stamps = [m.created_at for m in conversation.messages if m.created_at is not None]
    created = conversation.created_at or (min(stamps) if stamps else None)
    updated = conversation.updated_at or (max(stamps) if stamps else None) or created
    if created and updated and updated < created:
        updated = created
    return created, updated


def read_file(data: bytes, projects: list[ProjectIn] | None = None) -> list[NewConversation]:
    """Every conversation in a file, checked; or ImportFailed saying what is wrong. Given
    `projects`, the projects an all-export lists are added to it, checked too."""
    return read_document(data, projects)[0]


def read_document(
    data: bytes, projects: list[ProjectIn] | None = None
) -> tuple[list[NewConversation], list[dict]]:
    """Every conversation in a file and the prompts of our all-export, checked (and its
    projects added to `projects`, if given); or ImportFailed saying what is wrong."""
    if len(data) > settings.CHAT_IMPORT_MAX_BYTES:
        raise ImportFailed(f"The file is larger than {_megabytes()} MB.")
    values = _count_values(data)
    if values > MAX_JSON_VALUES:
        raise ImportFailed(
            f"The file holds more than {MAX_JSON_VALUES:,} JSON values, more than any "
            "export of conversations this app can import."
        )
    try:
        # pydantic-core's parser refuses nesting deeper than 200 levels, lone surrogates,
        # invalid UTF-8 and integers of more than 4,300 digits, in linear time.
        document = from_json(data, allow_inf_nan=False)
    except ValueError as exc:
        raise ImportFailed(f"The file is not valid JSON ({exc}).") from None
    prompts = _read_prompts(document)
    items, read = _recognise(document, prompts=bool(prompts))
    _check_counts(items)
    if projects is not None and isinstance(document, dict) and document.get("format") == FORMAT_ALL:
        projects.extend(_read_projects(document.get("projects")))
    conversations = [read(item, number) for number, item in enumerate(items, 1)]
    if read is _read_chatgpt:
        # ChatGPT keeps conversations with nothing visible in them: skip those.
        conversations = [c for c in conversations if c.messages]
        if not conversations:
            raise ImportFailed("The file's conversations have no messages to import.")
    return conversations, prompts


def _read_prompts(document: object) -> list[dict]:
    """The prompts of our all-export (none in other files, nor in older exports)."""
    if not (isinstance(document, dict) and document.get("format") == FORMAT_ALL):
        return []
    try:
        found = PromptsIn.model_validate({"prompts": document.get("prompts") or []})
    except ValidationError as exc:
        raise ImportFailed(f"Prompts: {_reason(exc)}") from None
    return [prompt.model_dump() for prompt in found.prompts]


def _read_projects(listed: object) -> list[ProjectIn]:
    """An all-export's projects (none in older files), each checked."""
    if listed is None:
        return []
    if not isinstance(listed, list) or len(listed) > MAX_PROJECTS:
        raise ImportFailed(f"The file's “projects” is not a list of at most {MAX_PROJECTS}.")
    found = []
    for number, item in enumerate(listed, 1):
        try:
            found.append(ProjectIn.model_validate(item))
        except ValidationError as exc:
            raise ImportFailed(f"Project {number}: {_reason(exc)}") from None
    return found


def _megabytes() -> str:
    return f"{settings.CHAT_IMPORT_MAX_BYTES / 1_000_000:g}"


def _count_values(data: bytes) -> int:
    """How many JSON values the file holds, at most (commas and brackets outside strings)."""
    skeleton = _STRINGS.sub(b'""', data)
    return skeleton.count(b",") + skeleton.count(b"[") + skeleton.count(b"{") + 1


Reader = Callable[[dict, int], NewConversation]


def _recognise(document: object, *, prompts: bool = False) -> tuple[list, Reader]:
    if isinstance(document, dict) and document.get("format") == FORMAT_ONE:
        return [document], _read_ours
    if isinstance(document, dict) and document.get("format") == FORMAT_ALL:
        version = document.get("version", VERSION)
        if not isinstance(version, int) or isinstance(version, bool) or version > VERSION:
            raise ImportFailed(
                f"This export's version ({version!r}) is newer than this app can read."
            )
        items = document.get("conversations")
        if not isinstance(items, list):
            raise ImportFailed("The file's “conversations” is not a list.")
        if not all(isinstance(item, dict) for item in items):
            raise ImportFailed("Each of the file's conversations must be a JSON object.")
        if not items and not prompts:
            raise ImportFailed("The file holds no conversations.")
        return items, _read_ours
    if (
        isinstance(document, list)
        and document
        and all(isinstance(c, dict) and "mapping" in c for c in document)
    ):
        return document, _read_chatgpt
    if isinstance(document, dict) and "mapping" in document:
        return [document], _read_chatgpt
    if isinstance(document, list) and not document:
        raise ImportFailed("The file holds no conversations.")
    raise ImportFailed("This is neither an export from this app nor ChatGPT's conversations.json.")


def _check_counts(items: list) -> None:
    limit = settings.CHAT_IMPORT_MAX_CONVERSATIONS
    if len(items) > limit:
        raise ImportFailed(
            f"The file holds {len(items):,} conversations; at most {limit:,} can be "
            "imported at once."
        )
    messages = 0
    for item in items:
        nodes = item.get("tree") if "tree" in item else item.get("mapping")
        messages += len(nodes) if isinstance(nodes, list | dict) else 0
    limit = settings.CHAT_IMPORT_MAX_MESSAGES
    if messages > limit:
        raise ImportFailed(
            f"The file holds {messages:,} messages; at most {limit:,} can be imported at once."
        )


def _validate(model: type[BaseModel], item: dict, number: int):
    try:
        return model.model_validate(item)
    except ValidationError as exc:
        raise ImportFailed(f"Conversation {number}: {_reason(exc)}") from None


def _reason(exc: ValidationError) -> str:
    """The first problem, as "where: what" (never the offending value itself)."""
    error = exc.errors(include_url=False, include_input=False)[0]
    where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error["loc"])
    what = error["msg"].removeprefix("Value error, ")
    more = exc.error_count() - 1
    return f"{where.lstrip('.') or 'the conversation'}: {what}" + (
        f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    )


def _fail(number: int, problem: str) -> None:
    raise ImportFailed(f"Conversation {number}: {problem}")


# Our own export.


def _read_ours(item: dict, number: int) -> NewConversation:
    conversation = _validate(ConversationIn, item, number)
    nodes = conversation.tree
    index: dict = {}
    for position, node in enumerate(nodes):
        if node.id in index:
            _fail(number, f"two messages have the id {node.id!r}.")
        index[node.id] = position
    parents: list[int | None] = []
    for node in nodes:
        if node.parent is None:
            parents.append(None)
        elif node.parent == node.id:
            _fail(number, f"message {node.id!r} is its own parent.")
        elif node.parent not in index:
            _fail(number, f"the parent of message {node.id!r} is missing.")
        else:
            parents.append(index[node.parent])
    order = _parents_first(parents)
    if order is None:
        _fail(number, "its messages' parents form a cycle.")
    if conversation.current is not None and conversation.current not in index:
        _fail(number, f"its current message {conversation.current!r} is not in its tree.")
    new_position = {old: new for new, old in enumerate(order)}
    messages, files = [], {}
    for old in order:
        node = nodes[old]
        if node.files and node.role != Message.Role.USER:
            _fail(number, f"message {node.id!r} carries files, and only a user's message may.")
        if len(node.files) > settings.CHAT_MAX_FILES_PER_MESSAGE:
            _fail(
                number,
                f"message {node.id!r} carries {len(node.files)} files; at most "
                f"{settings.CHAT_MAX_FILES_PER_MESSAGE} go with one message.",
            )
        for file in node.files:
            if files.setdefault(file.id, file) != file:
                _fail(number, f"the file {file.id} is described two different ways.")
        fields = {
            "role": node.role,
            "content": node.content,
            "reasoning": node.reasoning,
            "status": SAVED_STATUS.get(node.status, node.status),
            "model": node.model,
            "finish_reason": node.finish_reason,
            "error": node.error,
            "tool_calls": [ToolCall(**call.model_dump()).to_stored() for call in node.tool_calls]
            if node.role == Message.Role.ASSISTANT and node.tool_calls
            else None,
            "tool_call_id": node.tool_call_id,
            "tool_name": node.tool_name,
            "prompt_tokens": node.prompt_tokens,
            "completion_tokens": node.completion_tokens,
        }
        parent = parents[old]
        messages.append(
            NewMessage(
                parent=None if parent is None else new_position[parent],
                fields=fields,
                created_at=node.created_at,
                files=list(dict.fromkeys(file.id for file in node.files)),
            )
        )
    # Without a current message, the conversation shows the branch of the file's last one.
    current = None
    if nodes:
        current_id = conversation.current if conversation.current is not None else nodes[-1].id
        current = new_position[index[current_id]]
    return NewConversation(
        title=conversation.title or "Imported conversation",
        model=conversation.model,
        pinned=conversation.pinned,
        archived=conversation.archived,
        created_at=conversation.created_at,
        updated_at=conversation.updated_at,
        persona=conversation.persona,
        project=conversation.project,
        tags=list(conversation.tags),
        messages=messages,
        current=current,
        files=files,
    )


def _parents_first(parents: list[int | None]) -> list[int] | None:
    """An order of positions with every parent before its children (the file's own order
    when it already is one), or None when the parents form a cycle. Linear time."""
    if all(parent is None or parent < child for child, parent in enumerate(parents)):
        return list(range(len(parents)))
    children: list[list[int]] = [[] for _ in parents]
    for child, parent in enumerate(parents):
        if parent is not None:
            children[parent].append(child)
    order = [position for position, parent in enumerate(parents) if parent is None]
    for position in order:  # Grows as it goes: a breadth-first walk from the roots.
        order.extend(children[position])
    # A message on a cycle (or below one) is never reached from a root.
    return order if len(order) == len(parents) else None


# ChatGPT's conversations.json.


def _read_chatgpt(item: dict, number: int) -> NewConversation:
    conversation = _validate(ChatGPTConversation, item, number)
    mapping = conversation.mapping
    _check_chatgpt_links(mapping, number)
    keys = list(mapping)
    position = {key: i for i, key in enumerate(keys)}
    parents = [
        None if mapping[key].parent is None else position[mapping[key].parent] for key in keys
    ]
    order = _parents_first(parents)
    if order is None:
        _fail(number, "its messages' parents form a cycle.")
    # Nodes without visible text (the empty root, hidden system messages) are left out;
    # their children hang from the nearest ancestor that is kept.
    nearest: dict[str, int | None] = {}  # Node → index of the nearest kept message.
    messages: list[NewMessage] = []
    for i in order:
        key, node = keys[i], mapping[keys[i]]
        above = nearest.get(node.parent) if node.parent is not None else None
        try:
            text = _chatgpt_text(node.message) if node.message else None
        except ValueError as exc:
            _fail(number, f"node {key!r}: {exc}.")
        if text is None:
            nearest[key] = above
            continue
        message = node.message
        messages.append(
            NewMessage(
                parent=above,
                fields={
                    "role": message.author.role,
                    "content": text,
                    "model": (message.metadata and message.metadata.model_slug) or "",
                },
                created_at=_from_seconds(message.create_time),
            )
        )
        nearest[key] = len(messages) - 1
    current = None
    if conversation.current_node is not None:
        if conversation.current_node not in mapping:
            _fail(number, "its current_node is not in its mapping.")
        current = nearest[conversation.current_node]
    # Shown in the model picker: ChatGPT's own name for it, else its latest reply's.
    replies = [m.fields["model"] for m in messages if m.fields["role"] == Message.Role.ASSISTANT]
    model = conversation.default_model_slug or next((m for m in reversed(replies) if m), "")
    return NewConversation(
        title=(conversation.title or "Imported from ChatGPT")[:200],
        model=model,
        archived=bool(conversation.is_archived),
        created_at=_from_seconds(conversation.create_time),
        updated_at=_from_seconds(conversation.update_time),
        messages=messages,
        current=current,
    )


def _check_chatgpt_links(mapping: dict, number: int) -> None:
    """Parents must exist, and `children` must agree with them: no node is its own child,
    and none is claimed by two parents."""
    claimed: dict[str, str] = {}
    for key, node in mapping.items():
        if node.parent == key:
            _fail(number, f"node {key!r} is its own parent.")
        if node.parent is not None and node.parent not in mapping:
            _fail(number, f"the parent of node {key!r} is missing.")
        for child in node.children:
            if child == key:
                _fail(number, f"node {key!r} lists itself as its own child.")
            if child in claimed and claimed[child] != key:
                _fail(number, f"node {child!r} is a child of both {claimed[child]!r} and {key!r}.")
            if child not in mapping:
                _fail(number, f"node {key!r} lists a child {child!r} that is missing.")
            if mapping[child].parent != key:
                _fail(
                    number, f"node {key!r} lists {child!r} as a child, but that is not its parent."
                )
            claimed[child] = key


def _chatgpt_text(message: ChatGPTMessage) -> str | None:
    """A message's visible text, or None when it has none to show."""
    hidden = message.metadata and message.metadata.is_visually_hidden_from_conversation
    content = message.content
    if hidden or content is None:
        return None
    if content.parts is not None:
        text = "\n".join(
            part if isinstance(part, str) else "[attachment]" if part else ""
            for part in content.parts
        )
    elif content.text is not None:
        text = content.text
    else:
        return None
    if len(text) > MAX_TEXT_CHARS:
        raise ValueError(f"a message is longer than {MAX_TEXT_CHARS:,} characters")
    if message.author.role == Message.Role.SYSTEM and not text.strip():
        return None
    return text


def _from_seconds(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, tz=UTC)
