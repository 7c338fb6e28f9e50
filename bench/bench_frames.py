"""The cost of building frames through their models (conversations/chat/frames).

`message.delta` is the hot path: one frame per streaming reply about every 50 ms, built
once and then encoded and sent to each watching socket. Measured here, in one run:

  - dict: the frame as a dict literal, as outbound.py built it before the models (the
    baseline);
  - model: outbound.message_delta as it is, the frame validated by its model and dumped;
  - construct: the same model filled by model_construct (no validation) and dumped, the
    alternative for trusted values;
  - encode: json.dumps of the frame as the consumer sends it, paid once per socket.

Then a finished reply's `message.completed` (a 1 KB answer with its request record),
which carries a whole message object, built both ways.

    python bench/bench_frames.py
"""

import json
import os
import statistics
import sys
import timeit
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatsite.settings_test")

import django

django.setup()

from pydantic import MISSING  # noqa: E402

from conversations.chat import outbound  # noqa: E402
from conversations.chat.frames import server  # noqa: E402
from conversations.models import Message  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "7"))
CALLS = 20_000


def delta_dict(cid, mid, *, seq, content, reasoning="", blocks=None, stable=None) -> dict:
    """outbound.message_delta before the models."""
    frame = {
        "type": "message.delta",
        "conversation": cid,
        "message": mid,
        "seq": seq,
        "content": content,
    }
    if reasoning:
        frame["reasoning"] = reasoning
    if blocks is not None:
        frame["blocks"] = blocks
        frame["stable"] = stable
    return frame


def delta_construct(cid, mid, *, seq, content, reasoning="", blocks=None, stable=None) -> dict:
    return server.MessageDelta.model_construct(
        conversation=cid,
        message=mid,
        seq=seq,
        content=content,
        reasoning=reasoning or MISSING,
        blocks=MISSING if blocks is None else blocks,
        stable=MISSING if blocks is None else stable,
    ).model_dump()


def completed_dict(cid: int, message: Message, html: str) -> dict:
    """outbound.message_completed before the models (an assistant reply, HTML given)."""
    data = {
        "id": message.pk,
        "parent": message.parent_id,
        "role": message.role,
        "content": message.content,
        "status": message.status,
        "created_at": message.created_at.isoformat() if message.created_at else None,
        "tool_calls": message.tool_calls or [],
        "request": message.request,
        "html": html,
        "reasoning": message.reasoning,
        "model": message.model,
        "finish_reason": message.finish_reason or None,
        "error": message.error or None,
        "usage": message.usage,
        "timing": {
            "first_token_ms": message.first_token_ms,
            "total_ms": message.duration_ms,
            "reasoning_ms": message.reasoning_ms,
        },
    }
    return {"type": "message.completed", "conversation": cid, "message": data}


def microseconds(function) -> float:
    """Median µs per call over RUNS runs of CALLS calls."""
    runs = [timeit.timeit(function, number=CALLS) / CALLS * 1e6 for _ in range(RUNS)]
    return statistics.median(runs)


def reply() -> Message:
    return Message(
        pk=41,
        conversation_id=12,
        parent_id=40,
        role=Message.Role.ASSISTANT,
        content="A paragraph of an answer, with **some** Markdown in it. " * 20,
        status=Message.Status.COMPLETE,
        created_at=datetime.now(UTC),
        model="meta-llama/Llama-3.3-70B-Instruct",
        finish_reason="stop",
        prompt_tokens=812,
        completion_tokens=260,
        first_token_ms=180,
        duration_ms=2900,
        request={
            "persona": {"id": 3, "name": "Tutor", "version": 2},
            "system_prompt": "You are a patient tutor. " * 10,
            "custom_instructions": "",
            "model": "meta-llama/Llama-3.3-70B-Instruct",
            "model_source": "persona",
            "params": {"temperature": 0.5},
            "conversation_settings": [],
            "tools": ["calculator"],
            "tool_choice": "auto",
            "sent": [36, 37, 38, 39, 40],
            "left_out": [],
            "estimated_prompt_tokens": 812,
            "raw_estimate": 790,
            "context_window": 131072,
            "reply_reserve": 1024,
        },
    )


def main() -> None:
    text = " a few more words of the reply"
    plain = {"seq": 7, "content": text}
    full = {"seq": 8, "content": text, "reasoning": "hmm", "blocks": "<p>x</p>", "stable": 118}
    assert outbound.message_delta(12, 41, **full) == delta_dict(12, 41, **full)
    assert delta_construct(12, 41, **plain) == delta_dict(12, 41, **plain)
    print(f"Building one frame, µs (median of {RUNS} runs of {CALLS:,} calls)\n")
    print("| frame | dict (baseline) | model | model / dict | construct | encode (json.dumps) |")
    print("|---|---|---|---|---|---|")
    for name, kwargs in (("message.delta, text only", plain), ("message.delta, a block", full)):
        frame = delta_dict(12, 41, **kwargs)
        base = microseconds(lambda kwargs=kwargs: delta_dict(12, 41, **kwargs))
        model = microseconds(lambda kwargs=kwargs: outbound.message_delta(12, 41, **kwargs))
        built = microseconds(lambda kwargs=kwargs: delta_construct(12, 41, **kwargs))
        encode = microseconds(lambda frame=frame: json.dumps(frame, separators=(",", ":")))
        print(
            f"| {name} | {base:.2f} | {model:.2f} (+{model - base:.2f}) | {model / base:.0f}x "
            f"| {built:.2f} | {encode:.2f} |"
        )
    message, html = reply(), "<p>A paragraph…</p>"
    frame = completed_dict(12, message, html)
    assert outbound.message_completed(12, message, html=html) == frame
    base = microseconds(lambda: completed_dict(12, message, html))
    model = microseconds(lambda: outbound.message_completed(12, message, html=html))
    encode = microseconds(lambda: json.dumps(frame, separators=(",", ":")))
    print(
        f"| message.completed, 1 KB reply | {base:.2f} | {model:.2f} (+{model - base:.2f}) "
        f"| {model / base:.0f}x | - | {encode:.2f} |"
    )


if __name__ == "__main__":
    main()
