"""Frames that are valid JSON but hostile: deep nesting, lone surrogates, and what the log keeps."""

import json
import logging

import pytest
from channels.db import database_sync_to_async as db

from conversations.chat import turns
from conversations.models import Message
from tests.helpers import open_socket

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("no_leftover_replies"),
]

SECRET = "my bank PIN is 4321"


async def still_answers(ws) -> None:
    """The socket is still open and speaking the protocol."""
    await ws.send_json_to({"type": "no.such.frame"})
    frame = await ws.receive_json_from()
    assert frame["type"] == "error" and frame["code"] == "bad_request"


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000 + "]" * 100_000,
        '{"type": "chat.send", "content": ' + "[" * 100_000 + "]" * 100_000 + "}",
        '{"type": "chat.send", "tools": ' + '{"a":' * 50_000 + "1" + "}" * 50_000 + "}",
        # Just past the bound: refused as well, before any handler sees it.
        '{"type": "chat.stop", "conversation": 1, "x": ' + "[" * 40 + "]" * 40 + "}",
        # Shallow but huge: a quarter of a million empty lists, each cheap to write.
        '{"type": "chat.stop", "conversation": 1, "x": [' + ",".join(["[]"] * 250_000) + "]}",
    ],
    ids=["lists", "in-a-field", "objects", "just-past-the-bound", "wide"],
)
async def test_deeply_nested_or_sprawling_json_is_a_bad_request(connect, user, text):
    ws = await open_socket(connect, user)
    await ws.send_to(text_data=text)
    frame = await ws.receive_json_from(timeout=5)
    assert frame["type"] == "error" and frame["code"] == "bad_request"
    assert "nested" in frame["message"] or "lists and objects" in frame["message"]
    await still_answers(ws)


async def test_brackets_inside_strings_do_not_count_as_nesting(connect, user):
    ws = await open_socket(connect, user)
    title = '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[ {{{{{{{{{{{{{{{{{{{{{{{{{ \\" [[[['
    await ws.send_to(
        text_data=f'{{"type": "conversation.rename", "conversation": 999999, "title": "{title}"}}'
    )
    frame = await ws.receive_json_from()
    # Parsed fine: it reached the handler, which knows no such conversation.
    assert frame["type"] == "error" and frame["code"] == "not_found"


@pytest.mark.parametrize(
    ("field", "raw"),
    [
        ("content", f'"{SECRET} \\ud800"'),
        ("content", f'"\\udfff{SECRET}"'),
        ("client_id", '"c\\ud83d"'),
        ("model", '"m\\udc00"'),
        ("tools", '["calc\\ud800"]'),
        ("\\ud800key", '"x"'),
    ],
)
async def test_lone_surrogates_are_a_bad_request_and_never_logged(
    connect, user, fake_upstream, caplog, field, raw
):
    caplog.set_level(logging.DEBUG)
    ws = await open_socket(connect, user)
    frame = {"type": "chat.send", "client_id": "c1", "conversation": None, "content": "hi"}
    text = json.dumps(frame)[:-1] + f', "{field}": {raw}}}'
    await ws.send_to(text_data=text)
    answer = await ws.receive_json_from(timeout=5)
    assert answer["type"] == "error" and answer["code"] == "bad_request"
    assert "UTF-8" in answer["message"]
    assert await db(Message.objects.count)() == 0
    assert fake_upstream.completions() == []
    assert SECRET not in caplog.text and "4321" not in caplog.text
    await still_answers(ws)


async def test_an_unexpected_error_logs_the_frame_type_and_an_id_but_no_text(
    connect, user, monkeypatch, caplog
):
    async def broken(*, user, request, **kwargs):
        # The failure's own message carries the user's text, as database errors can.
        raise RuntimeError(f"could not save {request.content!r}")

    monkeypatch.setattr(turns, "send", broken)
    caplog.set_level(logging.DEBUG)
    ws = await open_socket(connect, user)
    await ws.send_json_to(
        {"type": "chat.send", "client_id": "c9", "conversation": None, "content": SECRET}
    )
    answer = await ws.receive_json_from(timeout=5)
    assert answer["type"] == "error" and answer["code"] == "server_error"
    assert answer["client_id"] == "c9"
    error_id = answer["error_id"]
    assert len(error_id) >= 8 and error_id in answer["message"]
    # The id is random hex, and may hold the PIN's digits by chance: leave it out, and look
    # for the text and the PIN in everything else that was logged.
    logged_besides_the_id = caplog.text.replace(error_id, "<error id>")
    assert SECRET not in logged_besides_the_id and "4321" not in logged_besides_the_id
    failures = [r for r in caplog.records if error_id in r.getMessage()]
    assert len(failures) == 1
    logged = failures[0].getMessage()
    assert "chat.send" in logged and "RuntimeError" in logged
    await still_answers(ws)
