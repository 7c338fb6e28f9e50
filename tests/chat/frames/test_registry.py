"""The protocol's one definition (conversations/chat/frames): the registry every reader
uses, the JSON Schema made from it, real frames against that schema, and the models as
the checks on what arrives from clients and from other processes."""

import asyncio
import inspect
import json
import logging
import re
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from conversations.chat import inbound, runtime, socket_limits
from conversations.chat.consumer import ChatConsumer
from conversations.chat.frames import registry as frames
from conversations.chat.frames import schema
from conversations.chat.frames.process import HubFrame
from tests.fake_upstream import error_reply, text_stream, tool_calls_stream
from tests.helpers import by_type, open_socket, receive_until, send_frame

ROOT = Path(__file__).resolve().parents[3]
PROTOCOL = (ROOT / "docs" / "protocol.md").read_text()


def test_the_schema_in_docs_is_the_one_the_code_makes():
    written, made = schema.PATH.read_text(), schema.render()
    old, new = json.loads(written)["$defs"], json.loads(made)["$defs"]
    differ = sorted(name for name in old.keys() | new.keys() if old.get(name) != new.get(name))
    assert written == made, (
        f"docs/protocol.schema.json differs from the frames in code ({', '.join(differ)}): "
        "run python -m conversations.chat.frames"
    )
    Draft202012Validator.check_schema(json.loads(made))


@pytest.mark.parametrize("kind", sorted(frames.CLIENT))
def test_every_client_frame_has_its_handler_and_its_limit(kind):
    spec = frames.CLIENT[kind]
    assert inspect.iscoroutinefunction(getattr(ChatConsumer, spec.handler))
    counted = socket_limits.RATES.get(spec.limit)
    assert (counted is not None) == (spec.limit in ("read", "write"))


def client_examples() -> list[dict]:
    """The client frames docs/protocol.md shows, one JSON object a line."""
    part = PROTOCOL.split("## Client → server")[1].split("## Server → client")[0]
    blocks = re.findall(r"```json\n(.*?)```", part, flags=re.S)
    return [json.loads(line) for block in blocks for line in block.splitlines() if line]


def test_the_documents_client_examples_are_valid_frames():
    examples = client_examples()
    assert {e["type"] for e in examples} == set(frames.CLIENT)
    validator = Draft202012Validator(schema.protocol_schema())
    for example in examples:
        validator.validate(example)
        kind, _ = inbound.parse(example)
        assert kind == example["type"]


def test_an_integer_too_large_for_a_float_is_refused_not_a_failure():
    huge = int("9" * 400)  # Valid JSON; float(huge) overflows.
    for name in ("temperature", "top_p", "max_tokens"):
        with pytest.raises(inbound.FrameError) as caught:
            inbound.parse({"type": "conversation.settings", "conversation": 1, name: huge})
        assert caught.value.code == "bad_request" and f"'{name}'" in caught.value.message


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("no_leftover_replies")
async def test_real_frames_are_valid_by_the_published_schema(connect, user, fake_upstream):
    """A turn with a tool call, a failed reply, a state, a history page, a rename, a
    refusal: every frame the server sent, checked against docs/protocol.schema.json (the
    socket also checked each against the models as it arrived)."""
    fake_upstream.script(
        tool_calls_stream(("calculator", '{"expression": "6 * 7"}')),
        text_stream("It is ", "42."),
        error_reply(400, {"error": {"message": "Bad request."}}),
    )
    ws = await open_socket(connect, user)
    await ws.send_json_to(send_frame(content="6*7?", tools=["calculator"]))
    seen = await receive_until(ws, "message.completed", timeout=10)
    seen += await receive_until(ws, "message.completed", timeout=10)
    cid = seen[0]["conversation"]
    await ws.send_json_to(send_frame(content="Again", client_id="c2", conversation=cid))
    seen += await receive_until(ws, "error", timeout=10, code="upstream_error")
    await ws.send_json_to({"type": "conversation.open", "conversation": cid})
    seen += await receive_until(ws, "conversation.state")
    last = seen[-1]["messages"][-1]["id"]
    await ws.send_json_to({"type": "conversation.history", "conversation": cid, "before": last})
    seen += await receive_until(ws, "conversation.history")
    await ws.send_json_to({"type": "conversation.rename", "conversation": cid, "title": "Sums"})
    seen += await receive_until(ws, "conversation.updated")
    await ws.send_json_to({"type": "chat.send", "client_id": "c3", "content": 5})
    seen += await receive_until(ws, "error", client_id="c3")
    kinds = {frame["type"] for frame in seen}
    assert {"message.tool_call", "message.tool_result", "message.delta", "error"} <= kinds
    published = json.loads(schema.PATH.read_text())
    del published["oneOf"]  # Client frames or server frames: only server frames here.
    validator = Draft202012Validator({**published, "$ref": "#/$defs/ServerFrame"})
    for frame in seen:
        errors = [e.message for e in validator.iter_errors(frame)]
        assert not errors, (frame["type"], errors[:3])
    tool_results = by_type(seen, "message.tool_result")
    assert tool_results[0]["message"]["content"] == "42"


@pytest.mark.django_db(transaction=True)
async def test_a_control_message_of_another_shape_is_dropped_and_the_channel_goes_on(caplog):
    """One malformed message from another process (a version that sends other fields, say)
    must not end the control loop: stops, snapshots and sweeps all travel on it."""
    from channels.layers import get_channel_layer

    process = runtime.current()
    try:
        channel = await process.control_channel()
        caplog.set_level(logging.WARNING)
        await get_channel_layer().send(channel, {"type": HubFrame.model_fields["type"].default})
        answered = asyncio.get_running_loop().create_future()
        process._alive[424242] = answered
        await get_channel_layer().send(channel, {"type": "turn.running", "conversation": 424242})
        await asyncio.wait_for(answered, 5)
        assert "Dropped a control message" in caplog.text
    finally:
        await runtime.shutdown()


# ---- docs/protocol.md names every frame and every field --------------------------------


def sections(part: str) -> dict[str, str]:
    """The `### ` sections of one `## ` part of docs/protocol.md, by heading, and its
    opening text (before any `### `) as ""."""
    text = PROTOCOL.split(f"\n## {part}\n")[1].split("\n## ")[0]
    chunks = re.split(r"\n(### [^\n]*)\n", "\n" + text)
    found = {"": chunks[0]}
    found.update(zip(chunks[1::2], chunks[2::2], strict=True))
    return found


def section_of(part: str, kind: str) -> str:
    matches = [body for heading, body in sections(part).items() if f"`{kind}`" in heading]
    assert len(matches) == 1, f"docs/protocol.md, {part}: no one ### heading names `{kind}`"
    return matches[0]


def named(field: str, text: str) -> bool:
    return f"`{field}`" in text or f'"{field}"' in text


def nested_fields(model) -> list[tuple[str, str]]:
    """(model, field) of every object a frame carries inside it, however deep."""
    found, todo, done = [], [model], set()
    while todo:
        current = todo.pop()
        for field in current.model_fields.values():
            for inner in _models_in(field.annotation):
                if inner not in done:
                    done.add(inner)
                    todo.append(inner)
                    found += [(inner.__name__, n) for n in inner.model_fields]
    return found


def _models_in(annotation) -> list:
    from pydantic import BaseModel

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in getattr(annotation, "__args__", ()) for m in _models_in(arg)]


@pytest.mark.parametrize(
    ("part", "kind"),
    [("Client → server", kind) for kind in frames.CLIENT]
    + [("Server → client", kind) for kind in frames.SERVER],
)
def test_the_protocol_document_names_every_frame_and_field(part, kind):
    """Each frame has a ### section naming each of its fields (in backticks, or as a key
    of its example); the objects frames carry inside them (a message, its timing, a
    conversation's params) are named somewhere in the same part, described once."""
    model = frames.CLIENT[kind].model if part.startswith("Client") else frames.SERVER[kind]
    body = section_of(part, kind)
    missing = [f for f in model.model_fields if f != "type" and not named(f, body)]
    whole = "".join(sections(part).values())
    missing += [f"{owner}.{f}" for owner, f in nested_fields(model) if not named(f, whole)]
    assert not missing, f"docs/protocol.md, `{kind}` does not name {missing}"


def test_the_architecture_document_names_every_message_between_processes():
    doc = (ROOT / "docs" / "architecture.md").read_text()
    rows = {
        kind: line
        for line in doc.splitlines()
        for kind in frames.PROCESS
        if line.startswith(f"| `{kind}` |")
    }
    assert set(rows) == set(frames.PROCESS), "docs/architecture.md, Between processes"
    for kind, model in frames.PROCESS.items():
        missing = [f for f in model.model_fields if f != "type" and not named(f, rows[kind])]
        assert not missing, f"docs/architecture.md: `{kind}` does not name {missing}"
