"""Staff's "Users and groups" page: per person their groups, two-factor status, last
sign-in, tokens this month against their quota and open sessions; "sign out everywhere"
ends every session of the account and closes its open sockets at once."""

import datetime as dt

import pytest
from channels.db import database_sync_to_async as db
from django.contrib.auth.models import Group, Permission
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conversations.accounts import people
from conversations.accounts.models import SignIn
from conversations.limits.models import DailyTokens, TokenQuota
from tests.helpers import ProtocolCommunicator

pytestmark = pytest.mark.django_db(transaction=True)

UNAUTHENTICATED = 4401


def signed_in(user, agent: str = "") -> Client:
    client = Client(HTTP_USER_AGENT=agent)
    client.force_login(user)
    return client


def signed_in_on_the_page(user, password: str, agent: str) -> Client:
    """Signed in through the sign-in page, by a browser that names itself."""
    client = Client(HTTP_USER_AGENT=agent)
    response = client.post("/accounts/login/", {"username": user.username, "password": password})
    assert response.status_code == 302
    return client


@pytest.fixture
def boss(django_user_model):
    return django_user_model.objects.create_superuser(username="boss", password="pw-boss-123")


def staff_with(django_user_model, username: str, *codenames: str):
    member = django_user_model.objects.create_user(
        username=username, password="pw-staff-123", is_staff=True
    )
    member.user_permissions.set(
        Permission.objects.filter(content_type__app_label="auth", codename__in=codenames)
    )
    return member


def test_each_person_with_groups_sign_in_tokens_against_quota_and_sessions(
    boss, user, other_user, settings
):
    settings.CHAT_DAILY_TOKENS = 1000
    team = Group.objects.create(name="Research")
    user.groups.add(team)
    TokenQuota.objects.create(group=team, daily_tokens=5000)
    today = timezone.now().astimezone(dt.UTC).date()
    DailyTokens.objects.create(user=user, day=today, tokens=1200)
    if today.day > 1:  # Earlier this month counts; last month does not.
        DailyTokens.objects.create(user=user, day=today.replace(day=1), tokens=300)
    DailyTokens.objects.create(user=user, day=today.replace(day=1) - dt.timedelta(days=1), tokens=7)
    signed_in_on_the_page(user, "pw-alice-123", "Firefox on a laptop")
    signed_in_on_the_page(user, "pw-alice-123", "Safari on a phone")

    page = signed_in(boss).get("/admin/people/")
    assert page.status_code == 200
    found = {p.user.username: p for p in page.context["people"]}
    alice = found["alice"]
    assert alice.groups == ["Research"]
    assert alice.two_factor == "off"
    assert alice.open_sessions == 2
    assert {s.user_agent for s in alice.sessions} == {"Firefox on a laptop", "Safari on a phone"}
    month = 1200 + (300 if today.day > 1 else 0)
    assert (alice.tokens_month, alice.tokens_today, alice.daily_quota) == (month, 1200, 5000)
    assert found["mallory"].daily_quota == 1000 and found["mallory"].tokens_month == 0
    assert found["mallory"].open_sessions == 0 and found["mallory"].user.last_login is None
    html = page.content.decode()
    assert f"{month:,} this month of at most" in html and "1,200 of 5,000 today" in html
    assert "Firefox on a laptop" in html and "Sign alice out everywhere" in html
    assert "Research" in html and "5,000 a day" in html


def test_the_page_is_for_staff_who_may_view_users_and_reads_a_bounded_number_of_times(
    django_user_model, boss
):
    viewer = staff_with(django_user_model, "viewer", "view_user")
    reviewer = staff_with(django_user_model, "reviewer")
    assert signed_in(reviewer).get("/admin/people/").status_code == 403
    assert signed_in(user_model_user(django_user_model)).get("/admin/people/").status_code == 302
    client = signed_in(viewer)
    small = client.get("/admin/people/")
    assert small.status_code == 200
    assert "Sign boss out everywhere" not in small.content.decode()  # Viewing only.
    for i in range(30):
        someone = django_user_model.objects.create_user(username=f"user{i:02}", password="x")
        someone.groups.add(Group.objects.get_or_create(name=f"g{i % 3}")[0])
        signed_in(someone)
    with CaptureQueriesContext(connection) as few:
        client.get("/admin/people/?q=boss")
    with CaptureQueriesContext(connection) as many:
        client.get("/admin/people/")
    assert len(many.captured_queries) == len(few.captured_queries)  # Not a query per person.


def user_model_user(django_user_model):
    return django_user_model.objects.create_user(username="plain", password="pw-plain-123")


async def socket_for(client: Client) -> ProtocolCommunicator:
    from chatsite.asgi import application

    cookie = f"sessionid={client.cookies['sessionid'].value}"
    headers = [(b"origin", b"http://localhost"), (b"host", b"localhost")]
    ws = ProtocolCommunicator(
        application, "/ws/chat/", headers=[*headers, (b"cookie", cookie.encode())]
    )
    connected, _ = await ws.connect()
    assert connected
    return ws


async def closed_with(ws, timeout: float = 5.0) -> int | None:
    import asyncio

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        output = await ws.receive_output(timeout=max(deadline - loop.time(), 0.01))
        if output["type"] == "websocket.close":
            return output.get("code")


@pytest.mark.usefixtures("no_leftover_replies")
async def test_sign_out_everywhere_ends_every_session_and_closes_the_sockets(
    boss, user, other_user
):
    laptop, phone = await db(signed_in)(user), await db(signed_in)(user)
    theirs = await db(signed_in)(other_user)
    on_laptop, on_phone = await socket_for(laptop), await socket_for(phone)
    stranger = await socket_for(theirs)

    staff = await db(signed_in)(boss)
    response = await db(staff.post)(
        f"/admin/people/{user.pk}/sign-out", {"next": "/admin/people/?q=al"}
    )
    assert response.status_code == 302 and response["Location"] == "/admin/people/?q=al"
    assert await closed_with(on_laptop) == UNAUTHENTICATED
    assert await closed_with(on_phone) == UNAUTHENTICATED
    assert (await db(laptop.get)("/")).status_code == 302  # Signed out over HTTP too.
    assert await db(SignIn.objects.filter(user=user).count)() == 0
    # Everyone else carries on.
    await stranger.send_json_to({"type": "no.such.frame"})
    assert (await stranger.receive_json_from(timeout=5))["code"] == "bad_request"
    assert (await db(theirs.get)("/")).status_code == 200


def test_only_staff_who_may_change_users_sign_them_out_and_only_superusers_a_superuser(
    django_user_model, boss, user
):
    signed_in(user)
    viewer = signed_in(staff_with(django_user_model, "viewer", "view_user"))
    assert viewer.post(f"/admin/people/{user.pk}/sign-out").status_code == 403
    changer = signed_in(staff_with(django_user_model, "changer", "view_user", "change_user"))
    assert changer.post(f"/admin/people/{boss.pk}/sign-out").status_code == 403
    assert changer.get(f"/admin/people/{user.pk}/sign-out").status_code == 405
    # Back to the page only: a "next" elsewhere is not followed.
    response = changer.post(f"/admin/people/{user.pk}/sign-out", {"next": "https://evil.test/"})
    assert response["Location"] == "/admin/people/"
    assert SignIn.objects.filter(user=user).count() == 0


def test_a_session_that_changes_its_key_stays_known(user):
    """A new password keeps the session that set it signed in under a new key (Django
    cycles it): its SignIn row follows, so staff can still end it."""
    browser = signed_in_on_the_page(user, "pw-alice-123", "Chromium")
    before = browser.cookies["sessionid"].value
    response = browser.post(
        "/settings/password/",
        {
            "old_password": "pw-alice-123",
            "new_password1": "a-Fresh-pass-77",
            "new_password2": "a-Fresh-pass-77",
        },
    )
    assert response.status_code == 302
    after = browser.cookies["sessionid"].value
    assert after != before
    kept = SignIn.objects.get(user=user)
    assert kept.session_id == after and kept.user_agent == "Chromium"
    assert people.people(now=timezone.now())[1][0].open_sessions == 1
    # Logging out deletes the session, and its row with it.
    browser.post("/accounts/logout/")
    assert not SignIn.objects.exists() and not Session.objects.filter(pk=after).exists()
