"""A websocket lives no longer than its sign-in: logout, deactivation, a new password, a
session deleted any other way. Real sockets through the real ASGI app."""

import asyncio
import os

import httpx2
import pytest
import websockets
from channels.db import database_sync_to_async as db
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client

from conversations.models import Message
from tests.helpers import ProtocolCommunicator, send_frame
from tests.live_server import Socket, start_server
from tests.live_server import session_cookie as live_session_cookie

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("no_leftover_replies"),
]

UNAUTHENTICATED = 4401
WITHIN = 5.0  # Seconds a listening socket may take to close.


def signed_in_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


async def socket_for(client: Client) -> WebsocketCommunicator:
    """A socket opened with this browser's session cookie."""
    from chatsite.asgi import application

    cookie = f"sessionid={client.cookies['sessionid'].value}"
    headers = [
        (b"origin", b"http://localhost"),
        (b"host", b"localhost"),
        (b"cookie", cookie.encode()),
    ]
    ws = ProtocolCommunicator(application, "/ws/chat/", headers=headers)
    connected, _ = await ws.connect()
    assert connected
    return ws


async def closed_with(ws: WebsocketCommunicator, timeout: float = WITHIN) -> int | None:
    """The close code the server sends next (frames before it are skipped), within `timeout`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        output = await ws.receive_output(timeout=max(deadline - loop.time(), 0.01))
        if output["type"] == "websocket.close":
            return output.get("code")


async def still_answers(ws: WebsocketCommunicator) -> bool:
    await ws.send_json_to({"type": "no.such.frame"})
    frame = await ws.receive_json_from(timeout=WITHIN)
    return frame["code"] == "bad_request"


async def test_logout_closes_that_sessions_sockets_and_no_others(user, other_user):
    laptop, phone = await db(signed_in_client)(user), await db(signed_in_client)(user)
    stranger = await db(signed_in_client)(other_user)
    tab1, tab2 = await socket_for(laptop), await socket_for(laptop)
    on_phone, theirs = await socket_for(phone), await socket_for(stranger)

    await db(laptop.post)("/accounts/logout/")
    assert await closed_with(tab1) == UNAUTHENTICATED
    assert await closed_with(tab2) == UNAUTHENTICATED
    # The same user's other session, and other users, carry on.
    assert await still_answers(on_phone) and await still_answers(theirs)


async def test_a_revoked_socket_answers_nothing_more(user, fake_upstream):
    browser = await db(signed_in_client)(user)
    ws = await socket_for(browser)
    await db(browser.post)("/accounts/logout/")
    assert await closed_with(ws) == UNAUTHENTICATED
    # A client that ignores the close and keeps sending gets nothing done.
    await ws.send_json_to(send_frame("Still here?"))
    assert await ws.receive_nothing(timeout=0.5)
    assert await db(Message.objects.count)() == 0
    assert fake_upstream.completions() == []


async def test_deactivating_an_account_closes_all_its_sockets(user, other_user):
    first, second = await db(signed_in_client)(user), await db(signed_in_client)(user)
    mine = [await socket_for(first), await socket_for(second)]
    theirs = await socket_for(await db(signed_in_client)(other_user))

    user.is_active = False
    await db(user.save)()
    for ws in mine:
        assert await closed_with(ws) == UNAUTHENTICATED
    assert await still_answers(theirs)


async def test_a_password_change_closes_the_accounts_sockets(user):
    elsewhere = await socket_for(await db(signed_in_client)(user))
    here = await db(signed_in_client)(user)
    ws = await socket_for(here)

    # Through the real page: the session that changes it stays signed in over HTTP.
    response = await db(here.post)(
        "/settings/password/",
        {
            "old_password": "pw-alice-123",
            "new_password1": "a-Fresh-pass-77",
            "new_password2": "a-Fresh-pass-77",
        },
    )
    assert response.status_code == 302
    assert await closed_with(elsewhere) == UNAUTHENTICATED
    # Its own socket was opened under the session key Django replaced on the change: it
    # closes too, and the page's new socket (the browser's new cookie) is welcome.
    assert await closed_with(ws) == UNAUTHENTICATED
    assert await still_answers(await socket_for(here))
    # The sign-in page, reached by the closed socket's page, sends it straight back.
    back = await db(here.get)("/accounts/login/?next=/conversations/1/")
    assert back.status_code == 302 and back["Location"] == "/conversations/1/"


async def test_a_password_set_anywhere_closes_sockets(user):
    ws = await socket_for(await db(signed_in_client)(user))

    def reset() -> None:  # As the admin or `manage.py changepassword` would.
        user.set_password("set-by-staff-99")
        user.save()

    await db(reset)()
    assert await closed_with(ws) == UNAUTHENTICATED


async def test_saving_a_user_otherwise_leaves_sockets_alone(user):
    ws = await socket_for(await db(signed_in_client)(user))
    user.first_name = "Alice"
    await db(user.save)()
    assert await still_answers(ws)


async def test_a_session_deleted_any_other_way_is_noticed_in_bounded_time(user, settings):
    settings.CHAT_SESSION_RECHECK_SECONDS = 0.2
    browser = await db(signed_in_client)(user)
    ws = await socket_for(browser)
    assert await still_answers(ws)
    # Staff delete it in the admin, or it expires: no signal says so.
    key = browser.cookies["sessionid"].value
    await db(Session.objects.filter(session_key=key).delete)()
    assert await closed_with(ws, timeout=3) == UNAUTHENTICATED


async def test_a_deleted_account_closes_its_sockets(user):
    ws = await socket_for(await db(signed_in_client)(user))
    await db(user.delete)()
    assert await closed_with(ws) == UNAUTHENTICATED


def postgres_url() -> str:
    db_settings = settings.DATABASES["default"]
    if "postgresql" not in db_settings["ENGINE"]:
        pytest.skip("several processes share a PostgreSQL database here")
    return (
        f"postgres://{db_settings['USER']}:{db_settings['PASSWORD']}@{db_settings['HOST']}:"
        f"{db_settings['PORT']}/{db_settings['NAME']}"
    )


async def close_code(socket: Socket, timeout: float = WITHIN) -> int:
    """The code the server closed this socket with, within `timeout` (frames are skipped)."""
    with pytest.raises(websockets.ConnectionClosed) as closed:
        async with asyncio.timeout(timeout):
            while True:
                await socket.connection.recv()
    return closed.value.rcvd.code


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis (REDIS_URL)")
async def test_a_logout_on_one_process_closes_the_socket_on_another(user, tmp_path):
    env = {
        "DJANGO_SETTINGS_MODULE": "chatsite.settings_test",
        "DATABASE_URL": postgres_url(),
        "REDIS_URL": os.environ["REDIS_URL"],
        "CHAT_AUTO_TITLES": "0",
    }
    a = start_server(env, tmp_path / "a.log")
    b = start_server(env, tmp_path / "b.log")
    try:
        cookie = await db(live_session_cookie)(user)
        on_a, listening_on_b = await Socket.open(a, cookie), await Socket.open(b, cookie)
        other_session = await Socket.open(a, await db(live_session_cookie)(user))
        # Sign out through B's page, as the browser would.
        async with httpx2.AsyncClient(base_url=b.url, headers={"Cookie": cookie}) as browser:
            page = await browser.get("/settings/")  # A page with a form.
            csrf = page.cookies["csrftoken"]
            answer = await browser.post(
                "/accounts/logout/",
                data={"csrfmiddlewaretoken": csrf},
                headers={"Origin": b.url, "Cookie": f"{cookie}; csrftoken={csrf}"},
            )
            assert answer.status_code == 302
        assert await close_code(on_a) == UNAUTHENTICATED
        assert await close_code(listening_on_b) == UNAUTHENTICATED
        # A change made in yet another process (here, the test's) reaches A too.
        await other_session.send({"type": "no.such.frame"})
        assert (await other_session.receive())["code"] == "bad_request"
        user.is_active = False
        await db(user.save)()
        assert await close_code(other_session) == UNAUTHENTICATED
    finally:
        a.stop()
        b.stop()
