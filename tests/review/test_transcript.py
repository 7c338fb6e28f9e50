"""The reviewer's transcript (review/transcript.py): a conversation of megabyte replies is
paged by bytes and still reaches every reply (and a real server opening such conversations
over its websocket ends with the memory it had); a tool call's arguments show indented, or
as sent when they do not parse."""

import asyncio
import os
import re

import pytest
from django.conf import settings

from conversations.models import Message
from conversations.rendering.budget import PLAIN_NOTE
from conversations.review import transcript
from conversations.review.models import AuditEntry
from tests import factories
from tests.fake_upstream import FakeUpstream
from tests.live_server import Socket, live_server, manage, user_cookie
from tests.render_samples import math_reply
from tests.review.builders import chat, rate, reply

URL = "/admin/review/transcript/{}/"
MB = 1_000_000
# A page: its budget, plus the one message it always shows (a reply of a megabyte, its
# HTML as long again), plus the admin's own frame.
PAGE_BOUND = settings.CHAT_PAGE_BYTES + 2 * MB + 100_000


def shown(page: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'<article class="rv-msg[^"]*" id="m(\d+)"', page)]


def link(page: str, text: str) -> str | None:
    found = re.search(rf'<a href="(\?[^"]+)"[^>]*>{text}</a>', page)
    return found.group(1).replace("&amp;", "&") if found else None


@pytest.mark.django_db
def test_a_transcript_of_megabyte_replies_is_paged_by_bytes(client, reviewer, user):
    from conversations import services

    conversation = services.conversation_create(owner=user, persona=None, model="m", title="T")
    parent, asked, ids, replies = None, [], [], []
    for i in range(3):
        parent = factories.message_append(
            conversation=conversation, role="user", content=f"Question {i}", parent=parent
        )
        asked.append(parent)
        ids.append(parent.pk)
        parent = reply(conversation, parent, math_reply(), sent=list(ids))
        ids.append(parent.pk)
        replies.append(parent.pk)
    # The first reply has a second version (a short one) beside it, not on the branch.
    other = reply(conversation, asked[0], "Short.", sent=ids[:1])
    services.conversation_switch(conversation=conversation, leaf_id=parent.pk)
    rate(parent, "down")  # In the review queue: reviewers may open it.
    client.force_login(reviewer)
    base = URL.format(conversation.pk)

    pages, seen, query = 0, [], ""
    while True:  # From the newest page up, by "Show earlier messages".
        page = client.get(base + query).content.decode()
        pages += 1
        assert len(page.encode()) <= PAGE_BOUND
        on_page = shown(page)
        assert on_page and not set(on_page) & set(seen)
        seen = on_page + seen
        query = link(page, "Show earlier messages")
        if query is None:
            break
    assert seen == ids and pages > 1
    for pk in replies:  # Each reply with its text (too costly to format: as text) and tools.
        page = client.get(base, {"leaf": ids[-1], "end": pk}).content.decode()
        assert PLAIN_NOTE in page and f'name="message" value="{pk}"' in page
        assert "Save note" in page and "Add this reply to the queue" in page
    audits = AuditEntry.objects.filter(action="view_transcript").order_by("pk")
    # Each page opened once a session, however often it is shown again.
    opened = {(e.detail["messages"][0], e.detail["messages"][-1]) for e in audits}
    assert audits.count() == len(opened) >= pages
    assert all(len(entry.detail["messages"]) >= 1 for entry in audits)

    # From the oldest page down, by "Show later messages": the same messages, in order.
    page = client.get(base, {"leaf": ids[-1], "end": ids[0]}).content.decode()
    again = shown(page)
    while query := link(page, "Show later messages"):
        page = client.get(base + query).content.decode()
        assert len(page.encode()) <= PAGE_BOUND
        again += shown(page)
    assert again == ids

    # The version switcher on an earlier page leads to the other version, and back.
    first = client.get(base, {"leaf": ids[-1], "end": replies[0]}).content.decode()
    assert "version 1/2" in first
    following = re.search(r'<a href="(\?[^"]+)" aria-label="Next version">', first).group(1)
    switched = client.get(base + following.replace("&amp;", "&")).content.decode()
    assert shown(switched)[-1] == other.pk and "version 2/2" in switched
    # A note written on an earlier page comes back to that page.
    answer = client.post(
        base + "note",
        {"message": replies[1], "text": "Checked.", "leaf": ids[-1], "end": replies[1]},
    )
    assert answer.status_code == 302 and answer["Location"].endswith(f"#m{replies[1]}")
    back = client.get(answer["Location"].split("#")[0]).content.decode()
    assert replies[1] in shown(back) and "Checked." in back


MAKE_CONVERSATIONS = """
from django.contrib.auth import get_user_model
from conversations import services
from tests import factories
from tests.render_samples import math_reply
owner = get_user_model().objects.get(username="memory")
ids = []
for i in range(5):
    c = services.conversation_create(owner=owner, persona=None, model="test-model", title=f"M{i}")
    asked = factories.message_append(conversation=c, role="user", content="Go", parent=None)
    text = "A short one." if i == 0 else math_reply() + str(i)
    factories.message_append(conversation=c, role="assistant", content=text, parent=asked)
    ids.append(c.pk)
print(" ".join(map(str, ids)))
"""


@pytest.fixture
def upstream():
    server = FakeUpstream().start()
    yield server
    server.stop()


async def test_opening_megabyte_replies_leaves_the_servers_memory_as_it_was(upstream, tmp_path):
    with live_server(
        tmp_path, LLM_BASE_URL=upstream.url, LLM_API_KEY="sk-memory", LLM_DEFAULT_MODEL="test-model"
    ) as server:
        env = {
            "DJANGO_SETTINGS_MODULE": "chatsite.settings_test",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "REDIS_URL": "",
        }
        cookie = await asyncio.to_thread(user_cookie, env, "memory")
        made = await asyncio.to_thread(
            manage, {**os.environ, **env}, "shell", "-c", MAKE_CONVERSATIONS
        )
        warm, *large = [int(pk) for pk in made.stdout.split()[-5:]]
        sock = await Socket.open(server, cookie)
        # One small conversation first: what opening one needs is loaded before measuring.
        await sock.send({"type": "conversation.open", "conversation": warm})
        await sock.until("conversation.state", conversation=warm)
        before = server.rss_kb()
        shown = []
        for pk in large:
            await sock.send({"type": "conversation.open", "conversation": pk})
            state = (await sock.until("conversation.state", timeout=120, conversation=pk))[-1]
            shown.append(state["messages"][-1]["html"][:200])
        grown = (server.rss_kb() - before) / 1024
        await sock.close()
    assert grown <= 100, f"the server grew by {grown:.0f} MB"
    assert all(html.startswith(f'<p class="render-note">{PLAIN_NOTE}') for html in shown)


@pytest.mark.django_db
def test_a_tool_calls_arguments_show_indented_or_as_sent(user):
    conversation = chat(user)
    calls = [
        {"id": "a", "name": "calculator", "arguments": '{"expression": "1 + 1"}'},
        {"id": "b", "name": "calculator", "arguments": '{"expression": '},
        # A model's arguments nested past the parser's depth: shown as sent, not a 500.
        {"id": "c", "name": "calculator", "arguments": "[" * 100_000 + "]" * 100_000},
    ]
    Message.objects.filter(pk=conversation.current_leaf_id).update(tool_calls=calls)
    page = transcript.build(conversation=conversation, leaf_id=None)
    shown = [call["arguments"] for call in page.entries[-1].tool_calls]
    assert shown == ['{\n  "expression": "1 + 1"\n}', calls[1]["arguments"], calls[2]["arguments"]]


@pytest.mark.django_db
def test_a_tool_call_shows_its_record_and_its_result_stays_text(client, reviewer, user):
    conversation = chat(user)
    asked = Message.objects.get(pk=conversation.current_leaf_id).parent
    calling = reply(conversation, asked, "", sent=[asked.pk])
    hostile = '<img src=x onerror="alert(1)">'
    tool = Message.objects.create(
        conversation=conversation,
        parent=calling,
        role="tool",
        content=f"deleted {hostile}",
        tool_call_id="call-1",
        tool_name="files__delete",
        tool_record={
            "source": "mcp",
            "server": "files",
            "tool": "files__delete",
            "remote_name": "delete",
            "arguments": '{"text": "<b>x</b>"}',
            "duration_ms": 42,
            "outcome": "ok",
        },
    )
    answer = reply(conversation, tool, "Deleted.", sent=[asked.pk, calling.pk, tool.pk])
    from conversations import services

    services.conversation_switch(conversation=conversation, leaf_id=answer.pk)
    rate(answer, "down")  # In the review queue: reviewers may open it.
    client.force_login(reviewer)
    page = client.get(URL.format(conversation.pk)).content.decode()
    assert "Server files, tool delete · ok · 42 ms" in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page and hostile not in page
    assert "&lt;b&gt;x&lt;/b&gt;" in page


@pytest.mark.django_db
def test_a_users_files_show_by_name_kind_and_thumbnail_inert(client, reviewer, user, tmp_path):
    from conversations.files import services as file_services
    from tests.files import samples
    from tests.portability.test_attached import attachment_make

    conversation = chat(user)
    asked = conversation.messages.get(role="user")
    hostile = attachment_make(user, "notes.txt", b"hello", tmp_path)
    # Upload names are sanitised; the page escapes whatever a row holds all the same.
    type(hostile).objects.filter(pk=hostile.pk).update(name="<img src=x onerror=alert(1)>.txt")
    shot = attachment_make(user, "shot.png", samples.image(), tmp_path)
    file_services.attachments_link(message=asked, attachments=[hostile, shot])
    rate(conversation.messages.get(role="assistant"), "down")  # Queued: reviewers may open it.
    client.force_login(reviewer)
    page = client.get(URL.format(conversation.pk)).content.decode()
    files = page[page.index('<ul class="rv-files"') :]
    files = files[: files.index("</ul>")]
    assert "&lt;img src=x onerror=alert(1)&gt;.txt" in files and "<img src=x" not in files
    assert f'<img src="/files/{shot.pk}/view" alt="shot.png"' in files
    assert "image · image/png" in files and "64\u00d748" in files
    # The reviewer may fetch the thumbnail; the fetch is audited.
    response = client.get(f"/files/{shot.pk}/view")
    assert response.status_code == 200
    assert response["X-Content-Type-Options"] == "nosniff"
