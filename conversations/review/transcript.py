"""The transcript view's page: one branch of a conversation as its user saw it, with
versions, the user's feedback and the reviewers' work on each reply.

Paged like the chat's pages: at most CHAT_PAGE_SIZE messages and (but for one message,
whatever its size) about CHAT_PAGE_BYTES of text, with links to the part before and the
part after. A page ends at a message of the branch and goes up from it, or starts at one
and goes down; which messages fit is decided on their sizes as the database counts them,
before any is loaded, and again on what each shows, rendered.

A fixed number of queries whatever the conversation's length: the conversation's tree
(ids only), the sizes of the messages near the page, the page's messages, then one query
each for versions, feedback, scores, notes, corrections and queue items
(selectors/transcript.py), and one for the files user messages carry.
"""

import json
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.conf import settings

from .. import selectors as conversation_selectors
from ..files.models import Attachment
from ..llm import ToolCall
from ..models import Conversation, Message
from ..rendering.markdown import render_markdown
from . import selectors
from .models import (
    CORRECTION_MAX_CHARS,
    Correction,
    Feedback,
    QueueItem,
    Report,
    ReviewNote,
    Score,
    ScoreConfig,
)


@dataclass
class Entry:
    """One message of the branch, ready to show."""

    message: Message
    html: str = ""
    version: int = 1
    versions: int = 1
    previous_link: str = ""  # The query of the page showing the previous version.
    next_link: str = ""
    tool_calls: list[dict] = field(default_factory=list)
    request_json: str = ""
    feedback: Feedback | None = None
    scores: list[Score] = field(default_factory=list)
    notes: list[ReviewNote] = field(default_factory=list)
    correction: Correction | None = None
    corrections: int = 0
    queue_items: list[QueueItem] = field(default_factory=list)
    files: list[Attachment] = field(default_factory=list)  # A user message's.
    # (config, the viewer's own score or None), for the scoring forms.
    score_forms: list[tuple[ScoreConfig, Score | None]] = field(default_factory=list)

    @property
    def is_reply(self) -> bool:
        return self.message.role == Message.Role.ASSISTANT

    @property
    def failed_tool(self) -> bool:
        return self.message.role == Message.Role.TOOL and self.message.content.startswith("Error:")

    @property
    def correction_draft(self) -> str:
        """What the correction form starts from: the newest correction, else the reply when
        it fits the form (a longer one could not be sent back)."""
        if self.correction is not None:
            return self.correction.content
        content = self.message.content
        return content if len(content) <= CORRECTION_MAX_CHARS else ""

    @property
    def shown_chars(self) -> int:
        """About how much of the page this entry takes: every text it shows."""
        m = self.message
        calls = sum(len(call.get("name", "")) + len(call["arguments"]) for call in self.tool_calls)
        texts = (self.html, m.reasoning, self.request_json, m.error, m.error_detail)
        size = sum(len(text or "") for text in texts) + calls
        size += sum(len(file.name) + 200 for file in self.files)  # A line or a thumbnail.
        if self.is_reply:
            return size + len(self.correction_draft)
        return size + len(m.content)


@dataclass
class Transcript:
    conversation: Conversation
    entries: list[Entry]
    leaf_id: int | None  # The branch: the message it ends at.
    end_id: int | None  # The last message on this page.
    earlier: int | None  # The page above ends at this message, when there is one.
    later: int | None  # The page below starts at this message, when there is one.
    notes: list[ReviewNote]  # On the conversation as a whole.
    queue_items: list[QueueItem]
    report: Report | None
    configs: list[ScoreConfig]


def _leaf_from(children: dict[int, int], message_id: int) -> int:
    """Follow the most recently shown children down to a leaf (as message_latest_leaf does)."""
    leaf, seen = message_id, 0
    while leaf in children and seen < len(children):  # Bounded even for a broken tree.
        leaf, seen = children[leaf], seen + 1
    return leaf


def _branch(parents: dict[int, int | None], leaf_id: int) -> list[int]:
    """The ids from the root down to `leaf_id`."""
    branch, at = [], leaf_id
    while at is not None and len(branch) <= len(parents):  # Bounded even for a broken tree.
        branch.append(at)
        at = parents.get(at)
    branch.reverse()
    return branch


def _window(
    branch: list[int], *, end_id: int | None, start_id: int | None
) -> tuple[list[int], bool] | None:
    """The ids a page may show, in the order it fills (down from `start_id`, else up to
    `end_id`, else up to the leaf), and whether it fills downwards; None when the message
    asked for is not on the branch."""
    size = settings.CHAT_PAGE_SIZE
    anchor = start_id if start_id is not None else end_id
    if anchor is not None and anchor not in branch:
        return None
    if start_id is not None:
        at = branch.index(start_id)
        return branch[at : at + size], True
    at = branch.index(end_id) + 1 if end_id is not None else len(branch)
    return branch[max(0, at - size) : at][::-1], False


def _fitting(ids: list[int], sizes: dict[int, int]) -> list[int]:
    """As many of `ids` as fit the page by their text alone (at least one): the page
    loads only these, and may show fewer once they are rendered."""
    budget, chosen = settings.CHAT_PAGE_BYTES, []
    for pk in ids:
        budget -= sizes.get(pk, 0)
        if chosen and budget < 0:
            break
        chosen.append(pk)
    return chosen


def build(
    *,
    conversation: Conversation,
    leaf_id: int | None,
    viewer_id: int | None = None,
    end_id: int | None = None,
    start_id: int | None = None,
) -> Transcript | None:
    """A page of the branch ending at `leaf_id` (default: the active leaf): the one
    starting at `start_id`, or ending at `end_id`, or the newest. None when a message
    asked for is not on that branch of this conversation."""
    leaf_id = leaf_id or conversation.current_leaf_id
    parents, children = selectors.message_tree(conversation=conversation)
    if leaf_id is not None and leaf_id not in parents:
        return None
    branch = _branch(parents, leaf_id) if leaf_id is not None else []
    window = _window(branch, end_id=end_id, start_id=start_id)
    if window is None:
        return None
    ids, downwards = window
    ids = _fitting(ids, selectors.message_sizes(message_ids=ids)) if ids else []
    loaded = selectors.messages_by_id(message_ids=ids)
    notes = selectors.notes_for_conversation(conversation=conversation)
    items = selectors.queue_items_for_conversation(conversation=conversation)
    configs = selectors.score_configs_active()
    messages = [loaded[pk] for pk in ids if pk in loaded]  # Less any deleted meanwhile.
    entries = _entries(conversation, messages, children, notes, items)
    budget, shown = settings.CHAT_PAGE_BYTES, []
    for entry in entries:  # In the order the page fills; rendered only if it may show.
        _render(entry, configs, viewer_id)
        budget -= entry.shown_chars
        if shown and budget < 0:
            break
        shown.append(entry)
    if not downwards:
        shown.reverse()
    first = branch.index(shown[0].message.pk) if shown else 0
    last = branch.index(shown[-1].message.pk) if shown else len(branch) - 1
    return Transcript(
        conversation=conversation,
        entries=shown,
        leaf_id=leaf_id,
        end_id=shown[-1].message.pk if shown else None,
        earlier=branch[first - 1] if first > 0 else None,
        later=branch[last + 1] if last + 1 < len(branch) else None,
        notes=notes.get(None, []),
        queue_items=items,
        report=selectors.own_report(conversation=conversation),
        configs=configs,
    )


def _entries(
    conversation: Conversation,
    messages: list[Message],
    children: dict[int, int],
    notes: dict[int | None, list[ReviewNote]],
    items: list[QueueItem],
) -> list[Entry]:
    """Each message with its versions and everything reviewers did to it."""
    siblings = conversation_selectors.message_siblings(conversation=conversation, messages=messages)
    ids = [m.pk for m in messages]
    feedback = selectors.feedback_for_messages(message_ids=ids)
    scores = selectors.scores_for_messages(message_ids=ids)
    corrections = selectors.corrections_for_messages(message_ids=ids)
    files = selectors.files_for_messages(message_ids=ids)
    entries = []
    for message in messages:
        versions = siblings[message.pk]
        at = versions.index(message.pk)
        mine = corrections.get(message.pk, [])
        entries.append(
            Entry(
                message=message,
                version=at + 1,
                versions=len(versions),
                previous_link=_version_link(children, versions[at - 1]) if at > 0 else "",
                next_link=(
                    _version_link(children, versions[at + 1]) if at + 1 < len(versions) else ""
                ),
                feedback=feedback.get(message.pk),
                scores=scores.get(message.pk, []),
                notes=notes.get(message.pk, []),
                correction=mine[-1] if mine else None,
                corrections=len(mine),
                queue_items=[i for i in items if i.message_id == message.pk],
                files=files.get(message.pk, []),
            )
        )
    return entries


def _version_link(children: dict[int, int], version: int) -> str:
    """The query of the page showing another version of a message: its branch (the
    children shown last, down to a leaf), on the page that ends at that version."""
    leaf = _leaf_from(children, version)
    return urlencode({"leaf": leaf} if leaf == version else {"leaf": leaf, "end": version})


def _render(entry: Entry, configs: list[ScoreConfig], viewer_id: int | None) -> None:
    """What a reply shows besides its text: its HTML, tool calls, record and score forms."""
    message = entry.message
    if message.role != Message.Role.ASSISTANT:
        return
    own = {s.config_id: s for s in entry.scores if s.author_id == viewer_id}
    entry.score_forms = [(config, own.get(config.pk)) for config in configs]
    entry.html = render_markdown(message.content)
    entry.tool_calls = [
        {**call.to_stored(), "arguments": _pretty(call.arguments)}
        for call in map(ToolCall.from_stored, message.tool_calls or [])
    ]
    if message.request is not None:
        entry.request_json = json.dumps(message.request, indent=2, ensure_ascii=False)


def _pretty(arguments: str) -> str:
    """A tool call's JSON arguments, indented when they parse."""
    try:
        return json.dumps(json.loads(arguments), indent=2, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):  # Recursion: nested past the parser's depth.
        return arguments
