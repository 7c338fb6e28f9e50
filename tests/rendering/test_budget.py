"""Rendering is bounded in time, size and memory, whatever a reply holds: a megabyte of
formulas is shown as text with a note, an ordinary megabyte of Markdown still renders
whole, the cache of rendered replies keeps to its bytes, a streamed reply's blocks share
one budget, and search snippets and titles stay small whatever the message."""

import html as html_lib
import json
import re

import pytest
from channels.db import database_sync_to_async as db

from conversations import selectors, services
from conversations.rendering import markdown
from conversations.rendering.budget import (
    PLAIN_NOTE,
    RENDER_CACHE_BYTES,
    RENDER_CACHE_ENTRY_SHARE,
    RENDER_MAX_CHARS,
    RENDER_MAX_FORMULAS,
    RenderBudget,
)
from conversations.rendering.markdown import render_markdown, render_within
from conversations.search import selectors as search
from conversations.search.snippets import SNIPPET_MAX_CHARS
from tests import factories
from tests.fake_upstream import Reply, chunk, text_stream
from tests.helpers import full_turn, open_socket, receive_until
from tests.render_samples import math_reply, realistic_reply, sections


def plain_part(html: str) -> str:
    """The text inside a fallback's plain-text block, unescaped."""
    found = re.search(r'<div class="plain-text">(.*)</div>\Z', html, re.S)
    assert found, html[:200]
    return html_lib.unescape(found.group(1))


def test_a_megabyte_of_formulas_is_shown_as_text_with_a_note():
    text = math_reply()  # 250,000 formulas.
    html = render_markdown(text)
    assert html.startswith(f'<p class="render-note">{PLAIN_NOTE}</p>')
    assert "<math" not in html and plain_part(html) == text
    # Whatever the text holds, the fallback is inert: escaped, never markup.
    hostile = '<script>alert(1)</script> <img src=x onerror="y"> ' + "$x$ " * (
        RENDER_MAX_FORMULAS + 1
    )
    shown = render_markdown(hostile)
    assert "<script" not in shown and "<img" not in shown
    assert plain_part(shown) == hostile


def test_a_megabyte_of_ordinary_markdown_renders_whole():
    text = realistic_reply()
    count = sections(text)
    html = render_markdown(text)
    assert PLAIN_NOTE not in html
    assert html.count("<table>") == count and html.count("<h4>") == count
    assert html.count("<pre>") == 2 * count  # Two code blocks a section...
    assert html.count('<span class="k">def</span>') == count  # ...every one highlighted.
    assert html.count('<math display="block">') == count  # Every display formula.
    assert html.count('<input class="task-list-item-checkbox"') == 2 * count
    assert f"Part {count - 1}</h4>" in html  # To the very end.


def test_each_limit_of_the_budget_stops_a_rendering():
    text = realistic_reply(20_000)
    assert render_within(text, RenderBudget.for_text(text)) is not None
    # Each limit, when it is the one reached: no HTML, and render_markdown shows the text.
    for spent in ({"seconds": 0.0}, {"formulas": 10}, {"html_chars": 20_000}):
        assert render_within(text, RenderBudget(**spent)) is None, spent
    # Past the highlighting limit, code is still shown, unhighlighted.
    html = render_within(text, RenderBudget(highlight_chars=500))
    assert html.count("<pre>") == 2 * sections(text)
    assert 0 < html.count('<span class="k">def</span>') < sections(text)
    # Text past RENDER_MAX_CHARS is not parsed at all.
    long = "*a* " * (RENDER_MAX_CHARS // 4 + 1)
    assert render_within(long, RenderBudget.for_text(long)) is None
    assert plain_part(render_markdown(long)) == long


def test_the_render_cache_keeps_to_its_bytes():
    cache = markdown.render_cache
    cache.clear()
    # Texts past RENDER_MAX_CHARS are not parsed, so these cost little to render; each
    # with its HTML is some 4 MB, and twenty-four of them twice the cache's budget.
    for i in range(24):
        render_markdown(f"{i} " + "word " * (RENDER_MAX_CHARS // 5 + 1000))
        render_markdown(f"{i} " + math_reply(400_000))
        assert cache.bytes <= RENDER_CACHE_BYTES
    assert cache.bytes > RENDER_CACHE_BYTES // 2  # It is used, not merely small.
    recent = f"23 {math_reply(400_000)}"
    assert render_markdown(recent) is render_markdown(recent)  # Still there: not rendered again.
    # A text too large for its share of the cache is rendered each time, not kept.
    huge = "x " * (RENDER_CACHE_BYTES // RENDER_CACHE_ENTRY_SHARE)
    before = cache.bytes
    assert render_markdown(huge) is not render_markdown(huge)
    assert cache.bytes <= before


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("no_leftover_replies")
async def test_a_streamed_replys_blocks_share_one_budget(connect, user, fake_upstream):
    # Twelve paragraphs of 1,000 formulas: past the limit of one reply, however the
    # paragraphs fall into blocks.
    paragraph = "$x$ " * 1000 + "\n\n"
    count = 12
    assert count * 1000 > RENDER_MAX_FORMULAS
    fake_upstream.script(text_stream(*[paragraph] * count, delay=0.05))
    ws = await open_socket(connect, user)
    frames, reply = await full_turn(ws, content="Many formulas")
    blocks = [f["blocks"] for f in frames if f["type"] == "message.delta" and "blocks" in f]
    shown = "".join(blocks) + reply["html"]
    noted = shown.find(PLAIN_NOTE)
    assert noted > 0 and shown.count(PLAIN_NOTE) == 1, "the note, once, after formatted blocks"
    assert "<math" in shown[:noted] and "<math" not in shown[noted:]
    assert reply["html_from"] > 0 and reply["html_from"] + len(plain_part(reply["html"])) == len(
        reply["content"]
    )
    # Opened again, it renders whole, under one message's budget: text with the note.
    await ws.send_json_to({"type": "conversation.open", "conversation": frames[0]["conversation"]})
    state = (await receive_until(ws, "conversation.state", timeout=20))[-1]
    assert plain_part(state["messages"][-1]["html"]) == reply["content"]


@pytest.mark.django_db
def test_search_snippets_stay_short_whatever_the_message(user):
    conversation = services.conversation_create(owner=user, persona=None, model="m", title="T")
    # Words as long as the engines index (PostgreSQL drops longer ones), a megabyte of them.
    words = " ".join(["zebra" + "z" * 2000] * 500)
    word = factories.message_append(
        conversation=conversation, role="user", content=words, parent=None
    )
    hits = search.conversation_search(user_id=user.pk, query="zebra")
    assert hits[0]["message"] == word.pk and len(hits[0]["snippet"]) <= SNIPPET_MAX_CHARS
    # A match every four characters (the engine's own snippet costs their square).
    matches = factories.message_append(
        conversation=conversation, role="assistant", content=math_reply(), parent=word
    )
    hits = search.conversation_search(user_id=user.pk, query="x")
    assert hits[0]["message"] == matches.pk and hits[0]["snippet"].startswith("$x$ $x$")
    assert len(hits[0]["snippet"]) <= SNIPPET_MAX_CHARS
    # Far into a long message, the words around the match, cut at words.
    prose = "lorem ipsum " * 50_000 + "the quokka smiled " + "dolor sit " * 50_000
    found = factories.message_append(
        conversation=conversation, role="assistant", content=prose, parent=matches
    )
    hit = search.conversation_search(user_id=user.pk, query="quokka")[0]
    assert hit["message"] == found.pk and "the quokka smiled" in hit["snippet"]
    assert hit["snippet"].startswith("…") and hit["snippet"].endswith("…")
    assert len(hit["snippet"]) <= SNIPPET_MAX_CHARS


def test_a_first_title_reads_only_the_start_of_a_message():
    assert services.title_from_text(" \n" * 500_000 + "Plan a trip to Lisbon") == (
        "Plan a trip to Lisbon"
    )
    title = services.title_from_text("word " * 200_000)
    assert len(title) <= services.TITLE_CHARS + 1 and title.endswith("…")


def endless_title() -> Reply:
    """A title answer that goes on and on, and then never ends."""

    def event(text: str) -> bytes:
        return f"data: {json.dumps(chunk({'content': text}))}\n\n".encode()

    steps = [("send", event("Lisbon Trip Plans"))]
    steps += [("send", event(" and more words" * 10))] * 200
    return Reply(steps=[*steps, ("hang",)])


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("no_leftover_replies")
async def test_a_title_answer_that_does_not_end_is_read_only_so_far(
    connect, user, fake_upstream, settings
):
    settings.CHAT_AUTO_TITLES = True
    fake_upstream.script(text_stream("Here is a plan."), endless_title())
    ws = await open_socket(connect, user)
    frames, _ = await full_turn(ws, content="Plan a trip")
    update = await receive_until(ws, "conversation.updated", timeout=10)
    assert update[-1]["title"].startswith("Lisbon Trip Plans")
    assert len(update[-1]["title"]) <= 80
    saved = await db(selectors.conversation_get_by_id)(conversation_id=frames[0]["conversation"])
    assert saved.title_source == "generated"
