"""Dataset lines, built a chunk of conversations at a time (a few queries per chunk).

- fine-tuning: OpenAI's chat format, `{"messages": [...]}` (and `tools` when some were
  offered): each reply rated up or scored "good example", with the messages exactly as
  they were sent (Message.request: the system prompt and the ids in `sent`), then the
  reply, or the reviewer's correction where there is one. Earlier assistant messages
  carry `"weight": 0` so only the chosen reply is trained on. A user message's files go
  as they went upstream: text files as `<file …>` blocks before its words, images as
  content parts (`image_url`, a data URL) after a text part.
- preference: OpenAI's DPO format, `{"input": {"messages": [...]}, "preferred_output":
  [...], "non_preferred_output": [...]}`, from sibling replies (thumbs up against down,
  else the version the user kept after regenerating against the others), from users'
  choices in side-by-side compares (the chosen reply against each other reply of the
  compare; a tie or "all bad" gives no pair), and from corrections against the replies
  they correct. A compare's replies are versions too, but only the choice (and thumbs
  up against down) pairs them: the reply shown after a compare is no choice by itself.
- annotations: one flat line per score, note, correction and user rating.

Conversations of users who opted out never get here (selectors.eligible_for_datasets).
"""

from collections.abc import Iterator

from .. import model_input
from ..llm import ToolSpec
from ..models import Message
from ..tools import external, registry
from . import selectors

MAX_PAIRS_PER_PLACE = 20  # A reply regenerated 100 times still gives a bounded set.


def _prompts(replies: list[Message]) -> dict[int, tuple[list[dict], list[dict]]]:
    """For each reply, (the messages its request sent, the tools it offered): one query."""
    wanted = {mid for r in replies for mid in (r.request or {}).get("sent", [])}
    sent = selectors.messages_by_id(message_ids=wanted)
    # What model_input sends with a user message (its text files' blocks, its images).
    for mid, files in selectors.files_for_messages(message_ids=list(wanted)).items():
        sent[mid].files = files
    # Whose tools an external tool was (one more query, only when a reply offered one).
    outside = {r.conversation_id for r in replies if (r.request or {}).get("tools_external")}
    owners = selectors.conversation_owners(conversation_ids=outside) if outside else {}
    prompts = {}
    for reply in replies:
        record = reply.request or {}
        messages = []
        if record.get("system_prompt"):
            messages.append({"role": "system", "content": record["system_prompt"]})
        for mid in record.get("sent", []):
            said = model_input.chat_message(sent[mid]) if mid in sent else None
            if said is not None:
                messages.append(said.to_wire())
        prompts[reply.pk] = (messages, _tools(record, owners.get(reply.conversation_id)))
    return prompts


def _tools(record: dict, owner_id: int | None) -> list[dict]:
    """The tools a request offered, as its `tools` carried them. An external tool's schema
    is not kept in the record (it travels in every frame of the reply): it is the one its
    server lists now, else the tool goes by its name alone."""
    names = record.get("tools") or []
    specs = {spec.name: spec.to_wire() for spec in registry.specs(names)}
    outside = record.get("tools_external") or {}
    listed = external.for_user(owner_id) if outside and owner_id is not None else {}
    for name in outside:
        tool = listed.get(name)
        spec = ToolSpec(name, tool.description, tool.parameters) if tool else None
        specs[name] = spec.to_wire() if spec else {"type": "function", "function": {"name": name}}
    return [specs[name] for name in names if name in specs]


def _usable(reply: Message) -> bool:
    """A reply with a record of what was sent, and something sent."""
    return bool(reply.request and reply.request.get("sent"))


def finetune(conversation_ids: list[int]) -> Iterator[tuple[int, dict]]:
    """(conversation id, line) for each good reply in these conversations."""
    replies = [r for r in selectors.good_replies(conversation_ids=conversation_ids) if _usable(r)]
    corrections = selectors.newest_corrections(message_ids=[r.pk for r in replies])
    prompts = _prompts(replies)
    for reply in replies:
        messages, tools = prompts[reply.pk]
        if reply.pk in corrections:
            final = {"role": "assistant", "content": corrections[reply.pk].content}
        elif reply.status == Message.Status.COMPLETE and (said := model_input.chat_message(reply)):
            final = said.to_wire()
        else:
            continue  # A failed reply with no correction teaches nothing.
        # Train on the chosen reply only, not on the earlier replies it follows.
        history = [{**m, "weight": 0} if m["role"] == "assistant" else m for m in messages]
        line = {"messages": [*history, final]}
        if tools:
            line["tools"] = tools
        yield reply.conversation_id, line


def _pairs(group: list[Message], ratings: dict[int, str]) -> list[tuple[Message, Message]]:
    """(chosen, rejected) among versions of one reply."""
    ups = [m for m in group if ratings.get(m.pk) == "up"]
    downs = [m for m in group if ratings.get(m.pk) == "down"]
    if ups and downs:
        return [(u, d) for u in ups for d in downs]
    # Implicit: the version shown last is the one the user kept; a rating overrides it.
    kept = max(group, key=lambda m: (m.selected_at, m.pk))
    if ratings.get(kept.pk) == "down":
        return []
    return [(kept, other) for other in group if other is not kept and ratings.get(other.pk) != "up"]


def _compare_pairs(
    group: list[Message], ratings: dict[int, str], choice: tuple[str, int | None, set[int]]
) -> list[tuple[Message, Message]]:
    """(chosen, rejected) among versions of one reply that were compared side by side:
    thumbs up against down, and the user's winner against each other compared reply."""
    verdict, chosen_id, compared = choice
    ups = [m for m in group if ratings.get(m.pk) == "up"]
    downs = [m for m in group if ratings.get(m.pk) == "down"]
    found = [(u, d) for u in ups for d in downs]
    winner = next((m for m in group if m.pk == chosen_id), None)
    if verdict == "winner" and winner is not None:
        found += [(winner, m) for m in group if m.pk in compared and m is not winner]
    return list(dict.fromkeys(found))  # A pair both rated and chosen goes once.


def preference(conversation_ids: list[int]) -> Iterator[tuple[int, dict]]:
    """(conversation id, line) for each preference pair in these conversations."""
    replies = selectors.ended_replies(conversation_ids=conversation_ids)
    ids = [r.pk for r in replies]
    ratings = selectors.ratings_by_message(message_ids=ids)
    corrections = selectors.newest_corrections(message_ids=ids)
    compares = selectors.compare_choices(conversation_ids=conversation_ids)
    places: dict[int, list[Message]] = {}
    for reply in replies:
        places.setdefault(reply.parent_id, []).append(reply)
    candidates: list[tuple[Message, str, Message]] = []  # (prompt from, chosen text, rejected)
    for parent_id, group in places.items():
        if len(group) > 1:
            if parent_id in compares:
                found = _compare_pairs(group, ratings, compares[parent_id])
            else:
                found = _pairs(group, ratings)
            for chosen, rejected in found[:MAX_PAIRS_PER_PLACE]:
                if chosen.status == Message.Status.COMPLETE and chosen.content.strip():
                    candidates.append((chosen, chosen.content, rejected))
    for reply in replies:
        if reply.pk in corrections:
            candidates.append((reply, corrections[reply.pk].content, reply))
    candidates = [c for c in candidates if _usable(c[0]) and c[2].content.strip()]
    prompts = _prompts([c[0] for c in candidates])
    for source, chosen, rejected in candidates:
        if chosen == rejected.content:
            continue
        messages, tools = prompts[source.pk]
        line = {
            "input": {"messages": messages},
            "preferred_output": [{"role": "assistant", "content": chosen}],
            "non_preferred_output": [{"role": "assistant", "content": rejected.content}],
        }
        if tools:
            line["input"]["tools"] = tools
        yield source.conversation_id, line


def annotations(conversation_ids: list[int]) -> Iterator[tuple[int, dict]]:
    """(conversation id, line) for every score, note, correction and user rating."""

    def base(kind: str, obj, message: Message | None) -> dict:
        return {
            "type": kind,
            "conversation": obj.conversation_id,
            "message": message.pk if message else None,
            "model": message.model if message else None,
            "persona": ((message.request or {}).get("persona") or {}).get("name")
            if message
            else None,
            "created_at": obj.created_at.isoformat(),
        }

    for s in selectors.scores_in(conversation_ids=conversation_ids):
        yield (
            s.conversation_id,
            base("score", s, s.message)
            | {
                "name": s.config.name,
                "kind": s.config.kind,
                "value": s.category if s.config.kind == "categorical" else s.value,
                "author": s.author.get_username(),
                "updated_at": s.updated_at.isoformat(),
            },
        )
    for n in selectors.notes_in(conversation_ids=conversation_ids):
        yield (
            n.conversation_id,
            base("note", n, n.message) | {"text": n.text, "author": n.author.get_username()},
        )
    for c in selectors.corrections_in(conversation_ids=conversation_ids):
        yield (
            c.conversation_id,
            base("correction", c, c.message)
            | {"content": c.content, "author": c.author.get_username()},
        )
    for f in selectors.feedback_in(conversation_ids=conversation_ids):
        yield (
            f.conversation_id,
            base("feedback", f, f.message)
            | {"rating": f.rating, "categories": f.categories, "comment": f.comment},
        )


KINDS = {
    "finetune": ("Fine-tuning (OpenAI chat format)", finetune),
    "preference": ("Preference pairs (OpenAI DPO format)", preference),
    "annotations": ("All annotations, flat", annotations),
}
