"""Settings: theme on every page, defaults for new chats, custom instructions in what is
sent, Enter to send, password change, signing out everywhere, deleting the account."""

import json
import re

import pytest
from channels.db import database_sync_to_async as db
from django.test import Client

from conversations import services
from conversations.accounts import services as account_services
from conversations.accounts.models import UserSettings
from conversations.models import Conversation, Message
from conversations.personas.models import Persona
from conversations.review.models import DatasetOptOut, Feedback, ReviewNote
from tests import factories
from tests.fake_upstream import text_stream
from tests.helpers import full_turn, open_socket

PASSWORD = "pw-alice-123"


def boot_of(page: str) -> dict:
    found = re.search(r'<script id="boot" type="application/json">(.*?)</script>', page, re.S)
    return json.loads(found.group(1))


def html_theme(page: str) -> str:
    return re.search(r'<html lang="en" data-theme="(\w+)">', page).group(1)


@pytest.mark.django_db
def test_settings_page_needs_sign_in_and_shows_every_section(client, user):
    assert client.get("/settings/")["Location"].startswith("/accounts/login/")
    client.force_login(user)
    page = client.get("/settings/").content.decode()
    for part in (
        'id="preferences"',
        'name="theme"',
        'name="default_persona"',
        'name="default_model"',
        'name="custom_instructions"',
        'name="enter_to_send"',
        'id="password-form"',
        'id="sign-out-everywhere"',
        'id="delete-account"',
        "Who can read your conversations",  # The review app's privacy notice.
        'id="dataset-toggle"',
    ):
        assert part in page, part
    assert 'href="/settings/"' in client.get("/").content.decode()  # From the chat page.


@pytest.mark.django_db
def test_theme_is_on_every_page_from_the_server_and_mirrored_in_a_cookie(client, user):
    client.force_login(user)
    assert html_theme(client.get("/").content.decode()) == "system"
    response = client.post("/settings/", {"theme": "dark", "enter_to_send": "on"})
    assert response.status_code == 302
    assert response.cookies["theme"].value == "dark"
    assert UserSettings.objects.get(user=user).theme == "dark"
    for url in ("/", "/personas/", "/import/", "/settings/", "/settings/privacy/"):
        page = client.get(url).content.decode()
        assert html_theme(page) == "dark", url
        assert '<meta name="color-scheme" content="dark">' in page
    # Signed out, the sign-in page keeps the colours through the cookie.
    client.post("/accounts/logout/")
    assert html_theme(client.get("/accounts/login/").content.decode()) == "dark"
    # Another browser of the same user gets the theme with its first page, and the cookie.
    other = Client()
    other.force_login(user)
    response = other.get("/")
    assert html_theme(response.content.decode()) == "dark"
    assert response.cookies["theme"].value == "dark"
    # A cookie holding anything else is ignored.
    stranger = Client()
    stranger.cookies["theme"] = '"><script>'
    assert html_theme(stranger.get("/accounts/login/").content.decode()) == "system"


@pytest.mark.django_db
def test_new_chats_start_with_the_default_persona_and_model(client, user, other_user):
    mine = Persona.objects.create(name="Poet", owner=user, system_prompt="Rhyme.")
    theirs = Persona.objects.create(name="Secret", owner=other_user)
    client.force_login(user)
    # Someone else's persona is refused like one that does not exist.
    response = client.post("/settings/", {"theme": "system", "default_persona": theirs.pk})
    assert response.status_code == 400
    assert UserSettings.objects.filter(user=user).count() == 0
    client.post(
        "/settings/",
        {"theme": "system", "default_persona": mine.pk, "default_model": "Qwen/QwQ-32B"},
    )
    page = client.get("/").content.decode()
    assert f'<option value="{mine.pk}" selected>Poet</option>' in page
    assert 'data-model="Qwen/QwQ-32B"' in page  # The model picker's button.
    assert boot_of(page)["newChat"] == {"persona": mine.pk, "model": "Qwen/QwQ-32B"}
    assert boot_of(page)["enterToSend"] is False  # Unticked in that form.
    assert "Ctrl+Enter to send" in page
    # An existing conversation keeps its own.
    conversation = services.conversation_create(
        owner=user, persona=None, model="Qwen/Qwen2.5-72B-Instruct"
    )
    page = client.get(f"/conversations/{conversation.pk}/").content.decode()
    assert f'<option value="{mine.pk}" selected>' not in page
    assert 'data-model="Qwen/Qwen2.5-72B-Instruct"' in page


@pytest.mark.django_db
def test_custom_instructions_are_bounded(client, user):
    client.force_login(user)
    too_long = "x" * (UserSettings.MAX_INSTRUCTIONS + 1)
    response = client.post("/settings/", {"theme": "system", "custom_instructions": too_long})
    assert response.status_code == 400
    assert "at most 4000 characters" in response.content.decode()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("no_leftover_replies")
async def test_custom_instructions_go_into_every_system_prompt_and_the_record(
    connect, user, fake_upstream
):
    persona = await db(Persona.objects.create)(name="Tutor", system_prompt="You teach maths.")
    await db(account_services.user_settings_update)(
        user=user, custom_instructions="  Answer in French.  "
    )
    fake_upstream.script(text_stream("Bonjour"), text_stream("Salut"))
    ws = await open_socket(connect, user)
    _, reply = await full_turn(ws, content="Hi", persona=persona.pk)
    sent = fake_upstream.completions()[0].body["messages"]
    assert sent[0] == {"role": "system", "content": "You teach maths.\n\nAnswer in French."}
    assert reply["request"]["custom_instructions"] == "Answer in French."
    assert reply["request"]["system_prompt"] == "You teach maths.\n\nAnswer in French."
    # Without a persona they are the whole system prompt.
    _, reply = await full_turn(ws, content="Again", client_id="c2")
    assert fake_upstream.completions()[1].body["messages"][0] == {
        "role": "system",
        "content": "Answer in French.",
    }
    assert reply["request"]["custom_instructions"] == "Answer in French."
    await ws.disconnect()


@pytest.mark.django_db
def test_export_shows_the_instructions_the_next_turn_would_send(client, user):
    account_services.user_settings_update(user=user, custom_instructions="Be brief.")
    conversation = services.conversation_create(owner=user, persona=None, model="m")
    factories.message_append(conversation=conversation, role="user", content="Q", parent=None)
    client.force_login(user)
    data = client.get(f"/conversations/{conversation.pk}/export.json").json()
    assert data["messages"][0] == {"role": "system", "content": "Be brief."}


@pytest.mark.django_db
def test_password_change_keeps_this_session_and_ends_the_others(client, user):
    other = Client()
    other.force_login(user)
    client.force_login(user)
    response = client.post(
        "/settings/password/",
        {
            "old_password": "wrong",
            "new_password1": "n3w-Secret-pw",
            "new_password2": "n3w-Secret-pw",
        },
    )
    assert response.status_code == 400
    assert "Your old password was entered incorrectly" in response.content.decode()
    response = client.post(
        "/settings/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "n3w-Secret-pw",
            "new_password2": "n3w-Secret-pw",
        },
    )
    assert response.status_code == 302
    assert client.get("/").status_code == 200  # Still signed in here.
    assert other.get("/").status_code == 302  # Signed out there.
    user.refresh_from_db()
    assert user.check_password("n3w-Secret-pw")


@pytest.mark.django_db
def test_sign_out_everywhere_ends_every_session_this_one_too(client, user, other_user):
    phone, laptop, bystander = Client(), Client(), Client()
    for browser in (phone, laptop, client):
        browser.force_login(user)
    bystander.force_login(other_user)
    response = client.post("/settings/sign-out-everywhere/", {"password": "nope"})
    assert response.status_code == 400
    assert "That is not your password." in response.content.decode()
    assert phone.get("/").status_code == 200
    response = client.post("/settings/sign-out-everywhere/", {"password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    for browser in (phone, laptop, client):
        assert browser.get("/").status_code == 302
    assert bystander.get("/").status_code == 200
    user.refresh_from_db()
    assert user.check_password(PASSWORD)  # The same password still signs in.


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("no_leftover_replies")
async def test_sign_out_everywhere_closes_the_users_open_sockets(connect, user):
    # Sockets hear of the account's new password hash through session revocation
    # (chat/session_watch.py, which closes them with 4401); it runs where that exists.
    pytest.importorskip(
        "conversations.chat.session_watch", reason="socket revocation is not on this branch yet"
    )
    ws = await open_socket(connect, user)
    browser = Client()
    await db(browser.force_login)(user)
    response = await db(browser.post)("/settings/sign-out-everywhere/", {"password": PASSWORD})
    assert response.status_code == 302
    closed = await ws.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": 4401}


@pytest.mark.django_db
def test_delete_account_needs_the_password_and_a_tick_then_removes_everything(
    client, user, other_user
):
    persona = Persona.objects.create(name="Mine", owner=user)
    conversation = services.conversation_create(owner=user, persona=persona, model="m")
    question = factories.message_append(
        conversation=conversation, role="user", content="secret", parent=None
    )
    reply = factories.message_append(
        conversation=conversation, role="assistant", content="answer", parent=question
    )
    Feedback.objects.create(conversation=conversation, message=reply, user=user, rating="up")
    DatasetOptOut.objects.create(user=user)
    account_services.user_settings_update(user=user, theme="dark", custom_instructions="x")
    theirs = services.conversation_create(owner=other_user, persona=None, model="m")
    factories.message_append(conversation=theirs, role="user", content="keep", parent=None)
    client.force_login(user)

    for data in ({"password": PASSWORD}, {"password": "wrong", "confirm": "on"}):
        assert client.post("/settings/delete-account/", data).status_code == 400
    assert Conversation.objects.filter(owner=user).exists()

    response = client.post("/settings/delete-account/", {"password": PASSWORD, "confirm": "on"})
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert not type(user).objects.filter(pk=user.pk).exists()
    assert not Conversation.objects.filter(pk=conversation.pk).exists()
    assert not Message.objects.filter(conversation_id=conversation.pk).exists()
    assert not Persona.objects.filter(pk=persona.pk).exists()
    assert not UserSettings.objects.filter(user_id=user.pk).exists()
    assert not Feedback.objects.exists() and not DatasetOptOut.objects.exists()
    assert client.get("/").status_code == 302  # Signed out.
    assert Message.objects.filter(conversation=theirs).count() == 1  # Others keep theirs.
    page = client.get("/accounts/login/", follow=True).content.decode()
    assert "Your account and all of its data have been deleted." in page


@pytest.mark.django_db
def test_an_account_that_wrote_review_work_is_not_deleted(client, django_user_model, user):
    staff = django_user_model.objects.create_user(
        username="reviewer", password="pw-reviewer-1", is_staff=True
    )
    conversation = services.conversation_create(owner=user, persona=None, model="m")
    ReviewNote.objects.create(conversation=conversation, author=staff, text="internal")
    client.force_login(staff)
    response = client.post(
        "/settings/delete-account/", {"password": "pw-reviewer-1", "confirm": "on"}
    )
    assert response.status_code == 400
    assert "review work" in response.content.decode()
    assert django_user_model.objects.filter(pk=staff.pk).exists()


@pytest.mark.django_db
def test_dataset_opt_out_from_settings_comes_back_to_settings(client, user):
    client.force_login(user)
    response = client.post("/settings/privacy/datasets", {"opt_out": "1", "next": "/settings/"})
    assert response["Location"] == "/settings/"
    assert "You have opted out" in client.get("/settings/").content.decode()
    response = client.post(
        "/settings/privacy/datasets", {"opt_out": "0", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/settings/privacy/"
