"""The transcript view's page: one branch of a conversation as its user saw it, with
versions, the user's feedback and the reviewers' work on each reply.

A fixed number of queries whatever the conversation's length: the branch in one
recursive query, then one query each for versions, feedback, scores, notes, corrections
and queue items (selectors/transcript.py).
"""

import json
from dataclasses import dataclass, field

from django.conf import settings

from .. import selectors as conversation_selectors
from ..models import Conversation, Message
from ..rendering import render_markdown
from . import selectors
from .models import Correction, Feedback, QueueItem, Report, ReviewNote, Score, ScoreConfig


@dataclass
class Entry:
    """One message of the branch, ready to show."""

    message: Message
    html: str = ""
    version: int = 1
    versions: int = 1
    previous_leaf: int | None = None
    next_leaf: int | None = None
    tool_calls: list[dict] = field(default_factory=list)
    request_json: str = ""
    feedback: Feedback | None = None
    scores: list[Score] = field(default_factory=list)
    notes: list[ReviewNote] = field(default_factory=list)
    correction: Correction | None = None
    corrections: int = 0
    queue_items: list[QueueItem] = field(default_factory=list)
    # (config, the viewer's own score or None), for the scoring forms.
    score_forms: list[tuple[ScoreConfig, Score | None]] = field(default_factory=list)

    @property
    def is_reply(self) -> bool:
        return self.message.role == Message.Role.ASSISTANT

    @property
    def failed_tool(self) -> bool:
        return self.message.role == Message.Role.TOOL and self.message.content.startswith("Error:")


@dataclass
class Transcript:
    conversation: Conversation
    entries: list[Entry]
    leaf_id: int | None
    earlier_leaf: int | None  # The leaf of the page above, when there is one.
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


def build(
    *, conversation: Conversation, leaf_id: int | None, viewer_id: int | None = None
) -> Transcript | None:
    """The page of the branch ending at `leaf_id` (default: the active leaf), or None when
    that message is not in this conversation."""
    size = settings.CHAT_PAGE_SIZE
    leaf_id = leaf_id or conversation.current_leaf_id
    branch = (
        conversation_selectors.message_branch(
            conversation=conversation, leaf_id=leaf_id, limit=size + 1
        )
        if leaf_id
        else []
    )
    if leaf_id and not branch:
        return None
    earlier = None
    if len(branch) > size:
        branch = branch[-size:]
        earlier = branch[0].parent_id
    siblings = conversation_selectors.message_siblings(conversation=conversation, messages=branch)
    children = selectors.latest_children(conversation=conversation)
    ids = [m.pk for m in branch]
    feedback = selectors.feedback_for_messages(message_ids=ids)
    scores = selectors.scores_for_messages(message_ids=ids)
    notes = selectors.notes_for_conversation(conversation=conversation)
    corrections = selectors.corrections_for_messages(message_ids=ids)
    items = selectors.queue_items_for_conversation(conversation=conversation)
    configs = selectors.score_configs_active()
    entries = []
    for message in branch:
        versions = siblings[message.pk]
        at = versions.index(message.pk)
        mine = corrections.get(message.pk, [])
        entry = Entry(
            message=message,
            version=at + 1,
            versions=len(versions),
            previous_leaf=_leaf_from(children, versions[at - 1]) if at > 0 else None,
            next_leaf=_leaf_from(children, versions[at + 1]) if at + 1 < len(versions) else None,
            feedback=feedback.get(message.pk),
            scores=scores.get(message.pk, []),
            notes=notes.get(message.pk, []),
            correction=mine[-1] if mine else None,
            corrections=len(mine),
            queue_items=[i for i in items if i.message_id == message.pk],
        )
        if message.role == Message.Role.ASSISTANT:
            own = {s.config_id: s for s in entry.scores if s.author_id == viewer_id}
            entry.score_forms = [(config, own.get(config.pk)) for config in configs]
            entry.html = render_markdown(message.content)
            entry.tool_calls = [
                {**call, "arguments": _pretty(call.get("arguments", ""))}
                for call in message.tool_calls or []
            ]
            if message.request is not None:
                entry.request_json = json.dumps(message.request, indent=2, ensure_ascii=False)
        entries.append(entry)
    return Transcript(
        conversation=conversation,
        entries=entries,
        leaf_id=branch[-1].pk if branch else None,
        earlier_leaf=earlier,
        notes=notes.get(None, []),
        queue_items=items,
        report=selectors.own_report(conversation=conversation),
        configs=configs,
    )


def _pretty(arguments: str) -> str:
    """A tool call's JSON arguments, indented when they parse."""
    try:
        return json.dumps(json.loads(arguments), indent=2, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):  # Recursion: nested past the parser's depth.
        return arguments
