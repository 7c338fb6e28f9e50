"""Costly pages and JSON endpoints answer 429, with Retry-After, past a user's rates."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from conversations import services
from conversations.models import Message
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def assert_too_many_json(response, limit: str) -> dict:
    assert response.status_code == 429
    body = response.json()
    assert body["error"] == "rate_limited" and body["limit"] == limit
    assert body["retry_after"] >= 1 and int(response["Retry-After"]) == body["retry_after"]
    return body


def test_search_is_limited_per_user(client, user, other_user, settings):
    settings.CHAT_READS_PER_MINUTE = 2
    for _ in range(2):
        assert client.get("/search.json?q=plans").status_code == 200
    body = assert_too_many_json(client.get("/search.json?q=plans"), "reads")
    assert "2 reads a minute" in body["message"] and 55 <= body["retry_after"] <= 60
    other = Client()
    other.force_login(other_user)
    assert other.get("/search.json?q=plans").status_code == 200  # Someone else's own count.


def test_reads_share_one_count_across_endpoints(client, settings):
    settings.CHAT_READS_PER_MINUTE = 3
    assert client.get("/conversations.json").status_code == 200
    assert client.get("/search.json?q=x").status_code == 200
    assert client.get("/personas/").status_code == 200
    assert_too_many_json(client.get("/conversations.json"), "reads")


def test_the_chat_page_answers_a_429_page(client, settings):
    settings.CHAT_READS_PER_MINUTE = 1
    assert client.get("/").status_code == 200
    response = client.get("/")
    assert response.status_code == 429 and int(response["Retry-After"]) >= 1
    assert response["Content-Type"].startswith("text/html")
    assert "Too many requests" in response.content.decode()


def test_the_model_list_is_limited(client, settings, fake_upstream):
    settings.CHAT_READS_PER_MINUTE = 1
    assert client.get("/models.json").status_code == 200
    assert_too_many_json(client.get("/models.json"), "reads")


def test_exports_of_one_conversation_are_reads(client, user, settings):
    settings.CHAT_READS_PER_MINUTE = 2
    conversation = services.conversation_create(owner=user, persona=None, model="m", title="T")
    assert client.get(f"/conversations/{conversation.pk}/export.json").status_code == 200
    assert client.get(f"/conversations/{conversation.pk}/export.md").status_code == 200
    response = client.get(f"/conversations/{conversation.pk}/export.md")
    assert response.status_code == 429 and "Retry-After" in response


def test_exporting_everything_and_importing_are_bulk_work(client, user, settings):
    settings.CHAT_BULK_PER_HOUR = 2
    assert client.get("/export/all.json").status_code == 200
    assert client.get("/import/").status_code == 200  # The form itself is free.
    upload = SimpleUploadedFile("x.json", b"[]", content_type="application/json")
    assert client.post("/import/", {"file": upload}).status_code != 429
    response = client.get("/export/all.json")
    assert response.status_code == 429
    assert 3500 <= int(response["Retry-After"]) <= 3600  # An hour's window.
    upload = SimpleUploadedFile("x.json", b"[]", content_type="application/json")
    assert client.post("/import/", {"file": upload}).status_code == 429


def test_feedback_reads_and_writes_are_limited(client, user, settings):
    settings.CHAT_READS_PER_MINUTE = 1
    settings.CHAT_WRITES_PER_MINUTE = 1
    conversation = services.conversation_create(owner=user, persona=None, model="m", title="T")
    question = factories.message_append(
        conversation=conversation, role="user", content="Q", parent=None
    )
    reply = factories.message_append(
        conversation=conversation, role="assistant", content="A", parent=question
    )
    url = f"/messages/{reply.pk}/feedback"
    assert client.get(url).status_code == 200
    assert_too_many_json(client.get(url), "reads")
    post = {"data": json.dumps({"rating": "up"}), "content_type": "application/json"}
    assert client.post(url, **post).status_code == 200
    assert_too_many_json(client.post(url, **post), "writes")
    report = f"/conversations/{conversation.pk}/report"
    assert_too_many_json(
        client.post(
            report, data=json.dumps({"categories": ["wrong"]}), content_type="application/json"
        ),
        "writes",
    )
    assert Message.objects.get(pk=reply.pk).feedback.rating == "up"


def test_persona_changes_are_writes(client, settings):
    settings.CHAT_WRITES_PER_MINUTE = 1
    form = {"name": "P", "tool_choice": "auto", "system_prompt": "Hi"}
    assert client.post("/personas/new/", form).status_code == 302
    response = client.post("/personas/new/", form | {"name": "Q"})
    assert response.status_code == 429 and "Too many requests" in response.content.decode()


def test_anonymous_requests_are_turned_away_before_counting(settings):
    settings.CHAT_READS_PER_MINUTE = 1
    anonymous = Client()
    for _ in range(3):
        assert anonymous.get("/search.json?q=x").status_code == 302  # To sign in.
    assert anonymous.get("/messages/1/feedback").status_code == 401
