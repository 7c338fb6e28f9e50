"""The users' side of review: ratings, reports, the protocol's `feedback`, the privacy page,
and the queue filling itself from failed replies and tool errors."""

import json

import pytest
from channels.db import database_sync_to_async as db
from django.db import connection
from django.db.models import Sum
from django.test import Client
from django.test.utils import CaptureQueriesContext

from conversations import services
from conversations.chat import pages
from conversations.models import Message
from conversations.review import stats
from conversations.review.models import (
    DailyActiveUser,
    DailyStat,
    DatasetOptOut,
    Feedback,
    QueueItem,
    Report,
)
from tests import factories
from tests.fake_upstream import error_reply, text_stream, tool_calls_stream
from tests.helpers import full_turn, open_socket, receive_until

pytestmark = pytest.mark.django_db


def chat(owner, turns=1):
    conversation = services.conversation_create(owner=owner, persona=None, model="m", title="T")
    parent = None
    for i in range(turns):
        parent = factories.message_append(
            conversation=conversation, role="user", content=f"q{i}", parent=parent
        )
        parent = factories.message_append(
            conversation=conversation, role="assistant", content=f"a{i}", parent=parent
        )
    conversation.refresh_from_db()
    return conversation


def post_json(client, url, body, method="post"):
    if method == "get":
        return client.get(url)
    return getattr(client, method)(url, json.dumps(body), content_type="application/json")


def test_thumbs_down_with_categories_and_comment_queues_the_reply(client, user):
    conversation = chat(user)
    reply = conversation.current_leaf
    client.force_login(user)
    response = post_json(
        client,
        f"/messages/{reply.pk}/feedback",
        {"rating": "down", "categories": ["wrong", "too_long"], "comment": "Not true."},
    )
    assert response.status_code == 200
    data = response.json()
    assert data["message"] == reply.pk
    assert data["feedback"]["rating"] == "down"
    assert data["feedback"]["categories"] == ["wrong", "too_long"]
    assert data["feedback"]["comment"] == "Not true."
    item = QueueItem.objects.get()
    assert (item.conversation, item.message, item.reason, item.status) == (
        conversation,
        reply,
        "thumbs_down",
        "open",
    )
    assert client.get(f"/messages/{reply.pk}/feedback").json()["feedback"]["rating"] == "down"


def test_change_and_withdraw_feedback(client, user):
    reply = chat(user).current_leaf
    client.force_login(user)
    url = f"/messages/{reply.pk}/feedback"
    post_json(client, url, {"rating": "down", "categories": ["unsafe"]})
    post_json(client, url, {"rating": "down", "comment": "Still bad"})
    assert QueueItem.objects.count() == 1  # Rating again does not queue twice.
    # Changed to a thumbs up: the untouched item leaves the queue.
    response = post_json(client, url, {"rating": "up", "categories": ["helpful"]})
    assert response.json()["feedback"]["categories"] == ["helpful"]
    assert Feedback.objects.get().rating == "up" and not QueueItem.objects.exists()
    post_json(client, url, {"rating": "down"})
    item = QueueItem.objects.get()
    item.status = "in_review"
    item.save()
    response = client.delete(url)
    assert response.status_code == 200 and response.json()["feedback"] is None
    assert not Feedback.objects.exists()
    assert QueueItem.objects.get().status == "in_review"  # A reviewer had taken it up.


def test_bad_feedback_is_refused_with_reasons(client, user):
    reply = chat(user).current_leaf
    client.force_login(user)
    url = f"/messages/{reply.pk}/feedback"
    for body, field in (
        ({"rating": "meh"}, "rating"),
        ({"rating": "up", "categories": ["wrong"]}, "categories"),  # A thumbs-down category.
        ({"rating": "down", "categories": "wrong"}, "categories"),
        ({"rating": "down", "comment": "x" * 2001}, "comment"),
    ):
        response = post_json(client, url, body)
        assert response.status_code == 400, body
        assert field in response.json()["fields"]
    assert client.post(url, "not json", content_type="application/json").status_code == 400
    # Nested past the parser's depth: refused the same way, not a server error.
    deep = "[" * 100_000 + "]" * 100_000
    assert client.post(url, deep, content_type="application/json").status_code == 400
    assert post_json(client, url, ["a list"]).status_code == 400
    assert not Feedback.objects.exists()


WRONG_TYPES = [{"note": "hi"}, ["hi"], 42, 1.5, True]


def test_feedback_fields_of_the_wrong_json_type_are_refused_not_stored(client, user):
    """Each field must be of its JSON type: a comment sent as an object is not stored as
    its Python repr, nor a rating or a category taken from a list's text."""
    reply = chat(user).current_leaf
    client.force_login(user)
    url = f"/messages/{reply.pk}/feedback"
    bodies = [{"rating": "down", "comment": wrong} for wrong in WRONG_TYPES]
    bodies += [{"rating": wrong} for wrong in WRONG_TYPES]
    bodies += [{"rating": "down", "categories": wrong} for wrong in ({"wrong": 1}, "wrong", 7)]
    bodies += [{"rating": "down", "categories": [wrong]} for wrong in WRONG_TYPES]
    for body in bodies:
        response = post_json(client, url, body)
        assert response.status_code == 400, body
        answer = response.json()
        assert answer["error"] == "bad_request" and answer["message"], body
        (field,) = {name for name in body if name != "rating"} or {"rating"}
        assert list(answer["fields"]) == [field], body
    assert not Feedback.objects.exists()
    # null is the same as leaving a field out; a category named twice is kept once.
    body = {"rating": "down", "categories": ["wrong", "wrong", "unsafe"], "comment": None}
    response = post_json(client, url, body)
    assert response.status_code == 200
    assert response.json()["feedback"]["comment"] == ""
    assert Feedback.objects.get().categories == ["wrong", "unsafe"]


def test_report_fields_of_the_wrong_json_type_are_refused_not_stored(client, user):
    conversation = chat(user)
    client.force_login(user)
    url = f"/conversations/{conversation.pk}/report"
    bodies = [{"comment": wrong} for wrong in WRONG_TYPES]
    bodies += [{"categories": wrong, "comment": "x"} for wrong in ({"unsafe": 1}, "unsafe", 7)]
    bodies += [{"categories": [wrong], "comment": "x"} for wrong in WRONG_TYPES]
    for body in bodies:
        response = post_json(client, url, body)
        assert response.status_code == 400, body
        assert response.json()["error"] == "bad_request", body
    assert not Report.objects.exists() and not QueueItem.objects.exists()


def test_only_replies_of_ones_own_conversations_can_be_rated(client, user, other_user):
    conversation = chat(user)
    reply, question = conversation.current_leaf, conversation.current_leaf.parent
    client.force_login(other_user)
    for url in (f"/messages/{reply.pk}/feedback", "/messages/999999/feedback"):
        for method in ("get", "post", "delete"):
            response = post_json(client, url, {"rating": "down"}, method=method)
            assert response.status_code == 404
            assert response.json() == {
                "error": "not_found",
                "message": "That message does not exist.",
            }
    client.force_login(user)
    assert (
        post_json(client, f"/messages/{question.pk}/feedback", {"rating": "up"}).status_code == 404
    )
    client.logout()
    assert post_json(client, f"/messages/{reply.pk}/feedback", {"rating": "up"}).status_code == 401
    assert not Feedback.objects.exists()


def test_feedback_needs_the_csrf_token(user):
    reply = chat(user).current_leaf
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    url = f"/messages/{reply.pk}/feedback"
    assert post_json(client, url, {"rating": "up"}).status_code == 403
    assert client.delete(url).status_code == 403
    client.get("/")  # The chat page sets the CSRF cookie, as for the page's own fetch.
    token = client.cookies["csrftoken"].value
    response = client.post(
        url, json.dumps({"rating": "up"}), content_type="application/json", HTTP_X_CSRFTOKEN=token
    )
    assert response.status_code == 200


def test_a_streaming_reply_cannot_be_rated_yet(client, user):
    conversation = chat(user)
    streaming = factories.message_append(
        conversation=conversation,
        role="assistant",
        parent=conversation.current_leaf,
        status=Message.Status.STREAMING,
    )
    client.force_login(user)
    assert (
        post_json(client, f"/messages/{streaming.pk}/feedback", {"rating": "up"}).status_code == 409
    )


def test_report_a_conversation_then_change_and_withdraw(client, user, other_user):
    conversation = chat(user)
    client.force_login(user)
    url = f"/conversations/{conversation.pk}/report"
    assert client.get(url).json() == {"conversation": conversation.pk, "report": None}
    assert post_json(client, url, {}).status_code == 400  # Say what is wrong.
    response = post_json(client, url, {"categories": ["unsafe"], "comment": "Scary advice"})
    assert response.status_code == 200 and response.json()["report"]["categories"] == ["unsafe"]
    post_json(client, url, {"categories": ["privacy"]})
    assert Report.objects.get().categories == ["privacy"]
    item = QueueItem.objects.get()
    assert item.reason == "report" and item.message is None
    client.force_login(other_user)
    for method in ("get", "post", "delete"):
        assert post_json(client, url, {"comment": "x"}, method=method).status_code == 404
    client.force_login(user)
    assert client.delete(url).json()["report"] is None
    assert not Report.objects.exists() and not QueueItem.objects.exists()


def test_history_pages_carry_the_users_own_feedback_in_one_query(user):
    conversation = chat(user, turns=3)
    replies = list(conversation.messages.filter(role="assistant").order_by("id"))
    services_feedback = [("down", ["wrong"], "no"), ("up", [], "")]
    from conversations.review import services as review

    for reply, (rating, categories, comment) in zip(replies, services_feedback, strict=False):
        review.feedback_set(
            user=user, message=reply, rating=rating, categories=categories, comment=comment
        )
    page, _ = pages.message_page(conversation, leaf_id=conversation.current_leaf_id)
    by_id = {m["id"]: m for m in page}
    assert by_id[replies[0].pk]["feedback"]["rating"] == "down"
    assert by_id[replies[0].pk]["feedback"]["categories"] == ["wrong"]
    assert by_id[replies[1].pk]["feedback"]["rating"] == "up"
    assert by_id[replies[2].pk]["feedback"] is None
    assert all("feedback" not in m for m in page if m["role"] == "user")

    bare = chat(user, turns=3)
    counts = []
    for c in (bare, conversation):
        with CaptureQueriesContext(connection) as ctx:
            pages.message_page(c, leaf_id=c.current_leaf_id)
        counts.append(len(ctx.captured_queries))
    # The branch's sizes, the messages that fit, their versions, feedback.
    assert counts[0] == counts[1] == 4


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("no_leftover_replies")
async def test_state_frame_has_feedback_and_no_review_internals(connect, user, fake_upstream):
    fake_upstream.script(text_stream("Hi there"))
    ws = await open_socket(connect, user)
    _, reply = await full_turn(ws)
    assert reply["status"] == "complete"
    message = await db(Message.objects.select_related("conversation").get)(pk=reply["id"])
    from conversations.review import services as review

    await db(review.feedback_set)(
        user=user, message=message, rating="down", categories=["unhelpful"], comment="meh"
    )
    await ws.send_json_to({"type": "conversation.open", "conversation": message.conversation_id})
    state = (await receive_until(ws, "conversation.state"))[-1]
    shown = next(m for m in state["messages"] if m["id"] == reply["id"])
    assert shown["feedback"]["rating"] == "down" and shown["feedback"]["comment"] == "meh"
    assert "notes" not in json.dumps(state) and "scores" not in json.dumps(state)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("no_leftover_replies")
async def test_failed_replies_and_tool_errors_queue_themselves(connect, user, fake_upstream):
    fake_upstream.script(error_reply(500, {"error": {"message": "upstream broke"}}))
    ws = await open_socket(connect, user)
    _, failed = await full_turn(ws)
    assert failed["status"] == "error"
    items = await db(list)(QueueItem.objects.values_list("reason", "message_id", "status"))
    assert items == [("error", failed["id"], "open")]

    conversation_id = (await db(Message.objects.get)(pk=failed["id"])).conversation_id
    fake_upstream.script(
        tool_calls_stream(("calculator", '{"expression": "1/0"}')), text_stream("Oops.")
    )
    await ws.send_json_to(
        {
            "type": "chat.send",
            "client_id": "c2",
            "conversation": conversation_id,
            "content": "Divide",
            "tools": ["calculator"],
        }
    )
    frames = await receive_until(ws, "message.tool_result")
    tool_message = frames[-1]["message"]
    assert tool_message["content"].startswith("Error:")
    await receive_until(ws, "message.completed")
    tool_item = await db(QueueItem.objects.get)(reason="tool_error")
    assert tool_item.message_id == tool_message["id"]
    assert tool_item.conversation_id == conversation_id
    # The same hooks keep the dashboard's counts: three replies (one failed), a tool
    # result, and the user's two messages (written every few seconds, or now).
    await db(stats.flush)()
    counts = await db(DailyStat.objects.aggregate)(
        replies=Sum("replies"), errors=Sum("errors"), messages=Sum("messages")
    )
    assert counts == {"replies": 3, "errors": 1, "messages": 4}
    assert await db(list)(DailyActiveUser.objects.values_list("user_id", "messages")) == [
        (user.pk, 2)
    ]


def test_privacy_page_says_who_can_read_and_opts_out(client, user, other_user):
    rated, private = chat(user), chat(user)
    rated.title, private.title = "Rated chat", "Private chat"
    rated.save()
    private.save()
    from conversations.review import services as review

    review.feedback_set(
        user=user, message=rated.current_leaf, rating="up", categories=[], comment=""
    )
    client.force_login(user)
    assert 'href="/settings/privacy/"' in client.get("/").content.decode()
    page = client.get("/settings/privacy/").content.decode()
    assert "Staff reviewers can read one only when it is in the review queue" in page
    assert "Every time anyone on staff opens one of your conversations, it is recorded" in page
    assert "Rated chat" in page and "Private chat" not in page
    assert "You have not opted out." in page
    response = client.post("/settings/privacy/datasets", {"opt_out": "1"})
    assert response.status_code == 302 and response["Location"] == "/settings/privacy/"
    assert DatasetOptOut.objects.filter(user=user).exists()
    assert "You have opted out" in client.get("/settings/privacy/").content.decode()
    client.post("/settings/privacy/datasets", {"opt_out": "0"})
    assert not DatasetOptOut.objects.exists()
    assert client.get("/settings/privacy/datasets").status_code == 405
    client.logout()
    assert client.get("/settings/privacy/").status_code == 302
