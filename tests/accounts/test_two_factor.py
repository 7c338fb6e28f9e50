"""Two-factor sign-in: TOTP from allauth.mfa, the app's hashed recovery codes, the
session's mark checked by pages and the websocket, staff who must enrol, the sign-in
limits and the admin log."""

import re
import time

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from axes.models import AccessAttempt
from channels.db import database_sync_to_async
from django.contrib.admin.models import LogEntry
from django.core.cache import cache
from django.test import Client

from conversations.accounts import selectors as account_selectors
from conversations.accounts import two_factor
from conversations.accounts.models import RecoveryCode
from conversations.chat.session_watch import UNAUTHENTICATED
from tests.helpers import ProtocolCommunicator

# Transactions commit, as in a server: allauth announces a new factor once it has.
pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "pw-alice-123"
MFA = "/accounts/2fa/"


@pytest.fixture(autouse=True)
def fresh_cache():
    """allauth keeps each used TOTP code (and its rate limits) in the cache: one test's
    codes are not another's."""
    cache.clear()
    yield
    cache.clear()


def code_now(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def password_sign_in(client: Client, username: str = "alice", password: str = PASSWORD):
    return client.post("/accounts/login/", {"username": username, "password": password})


def enrol_totp(client: Client) -> str:
    """Turn TOTP on for the signed-in user (signed in with its password just now)."""
    page = client.get(f"{MFA}totp/activate/")
    assert page.status_code == 200, page
    secret = page.context["form"].secret
    done = client.post(f"{MFA}totp/activate/", {"code": code_now(secret)})
    assert done.status_code == 302 and done["Location"] == MFA
    return secret


def signed_in(client: Client) -> bool:
    return client.get("/settings/").status_code == 200


def test_enrolling_needs_the_password_again_unless_just_given(client, user):
    client.force_login(user)  # A session whose password was not given just now.
    response = client.get(f"{MFA}totp/activate/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/reauthenticate/")
    confirm = client.post(response["Location"], {"password": PASSWORD})
    assert confirm.status_code == 302 and confirm["Location"] == f"{MFA}totp/activate/"
    assert client.get(f"{MFA}totp/activate/").status_code == 200
    # Signed in with the password just now: no second asking.
    fresh = Client()
    password_sign_in(fresh)
    assert fresh.get(f"{MFA}totp/activate/").status_code == 200


def test_removing_a_factor_needs_the_password_again(client, user):
    password_sign_in(client)
    enrol_totp(client)
    session = client.session
    records = session["account_authentication_methods"]
    for record in records:
        record["at"] -= 3600  # An hour ago.
    session["account_authentication_methods"] = records
    session.save()
    response = client.post(f"{MFA}totp/deactivate/")
    assert response["Location"].startswith("/accounts/reauthenticate/")
    assert Authenticator.objects.filter(user=user, type="totp").exists()


def test_a_sign_in_asks_for_the_second_factor_before_any_session(client, user):
    password_sign_in(client)
    secret = enrol_totp(client)
    other = Client()
    step = password_sign_in(other)
    assert step.status_code == 302 and step["Location"] == f"{MFA}authenticate/"
    assert not signed_in(other)  # Nothing is signed in on the password alone.
    wrong = other.post(f"{MFA}authenticate/", {"code": "000000"})
    assert wrong.status_code == 200 and "That code is not right" in wrong.content.decode()
    assert AccessAttempt.objects.filter(path_info=f"{MFA}authenticate/").exists()
    done = other.post(f"{MFA}authenticate/", {"code": code_now(secret)})
    assert done.status_code == 302 and done["Location"] == "/"
    assert signed_in(other)
    assert two_factor.verified_in(other.session, user_id=user.pk)


def test_wrong_codes_lock_out_like_wrong_passwords(client, user, settings):
    password_sign_in(client)
    secret = enrol_totp(client)
    attacker = Client()
    password_sign_in(attacker)
    codes = [
        attacker.post(f"{MFA}authenticate/", {"code": f"{i:06d}"}).status_code
        for i in range(settings.AXES_FAILURE_LIMIT)
    ]
    assert codes[-1] == 429
    locked = attacker.post(f"{MFA}authenticate/", {"code": code_now(secret)})
    assert locked.status_code == 429 and not signed_in(attacker)


def test_recovery_codes_are_stored_hashed_and_work_once(client, user):
    password_sign_in(client)
    enrol_totp(client)
    made = client.post(f"{MFA}recovery-codes/generate/")
    assert "no-store" in made["Cache-Control"]
    codes = re.findall(r"<code>([a-z0-9-]{19})</code>", made.content.decode())
    assert len(codes) == 10 and len(set(codes)) == 10
    stored = list(RecoveryCode.objects.filter(user=user).values_list("code_hash", flat=True))
    assert len(stored) == 10 and not set(codes) & set(stored)
    assert not any(code.replace("-", "") in "".join(stored) for code in codes)
    # Not shown again.
    page = client.get(f"{MFA}recovery-codes/").content.decode()
    assert "10 unused recovery codes" in page and codes[0] not in page
    first = Client()
    password_sign_in(first)
    assert first.post(f"{MFA}authenticate/", {"code": codes[0].upper()}).status_code == 302
    assert signed_in(first)
    again = Client()
    password_sign_in(again)
    refused = again.post(f"{MFA}authenticate/", {"code": codes[0]})
    assert refused.status_code == 200 and not signed_in(again)
    assert account_selectors.two_factor_status(user) == "TOTP, 9 recovery codes"


def test_a_session_from_before_enrolment_has_to_sign_in_again(client, user):
    older = Client()
    password_sign_in(older)
    assert signed_in(older)
    password_sign_in(client)
    enrol_totp(client)
    assert signed_in(client)  # The enrolling session showed the code.
    response = older.get("/settings/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert not signed_in(older)


async def open_socket(client: Client) -> ProtocolCommunicator:
    from chatsite.asgi import application

    cookie = f"sessionid={client.cookies['sessionid'].value}"
    headers = [
        (b"origin", b"http://localhost"),
        (b"host", b"localhost"),
        (b"cookie", cookie.encode()),
    ]
    return ProtocolCommunicator(application, "/ws/chat/", headers=headers)


async def closed_with(communicator) -> int | None:
    await communicator.connect()
    message = await communicator.receive_output(5)
    while message["type"] == "websocket.send":
        message = await communicator.receive_output(5)
    return message.get("code") if message["type"] == "websocket.close" else None


async def test_the_socket_checks_the_mark_at_its_handshake(user):
    from conversations.chat import runtime

    older, enrolling = Client(), Client()
    await database_sync_to_async(password_sign_in)(older)
    await database_sync_to_async(password_sign_in)(enrolling)
    await database_sync_to_async(enrol_totp)(enrolling)
    try:
        refused = await open_socket(older)
        assert await closed_with(refused) == UNAUTHENTICATED
        accepted = await open_socket(enrolling)
        connected, _ = await accepted.connect()
        assert connected
        assert await accepted.receive_nothing(0.5)
        await accepted.disconnect()
    finally:
        await runtime.shutdown()


def test_staff_reach_only_enrolment_until_they_enrol(client, django_user_model, settings):
    settings.CHAT_REQUIRE_2FA_FOR_STAFF = True
    django_user_model.objects.create_user(username="sam", password=PASSWORD, is_staff=True)
    assert password_sign_in(client, "sam").status_code == 302
    for page in ("/admin/", "/", "/settings/", "/models.json"):
        response = client.get(page)
        assert response.status_code in (302, 403), page
        if response.status_code == 302:
            assert response["Location"] == MFA
    assert client.get(MFA).status_code == 200
    enrol_totp(client)
    assert client.get("/admin/").status_code == 200


def test_second_factor_events_go_to_the_admin_log(client, user):
    password_sign_in(client)
    secret = enrol_totp(client)
    other = Client()
    password_sign_in(other)
    other.post(f"{MFA}authenticate/", {"code": "000000"})
    other.post(f"{MFA}authenticate/", {"code": code_now(secret)})
    client.post(f"{MFA}totp/deactivate/")
    messages = list(
        LogEntry.objects.filter(object_id=str(user.pk))
        .order_by("pk")
        .values_list("change_message", flat=True)
    )
    assert messages[0].startswith("Added a second factor (TOTP")
    assert "A wrong second-factor code was entered." in messages
    assert any(m.startswith("Signed in with a second factor") for m in messages)
    assert messages[-1].startswith("Removed a second factor (TOTP")
    assert secret not in "".join(messages)
    assert account_selectors.two_factor_status(user) == "off"
