"""Signing out with single sign-on, against the app as deployed and the test provider:
RP-initiated logout, and the provider's back-channel logout ending the app's session and
closing its socket; and a fresh sign-in at the provider before a factor is enrolled."""

import os
import re
import subprocess
import sys
from urllib.parse import parse_qs, urlparse

import httpx2
import pytest
import websockets

from tests.live_server import ROOT, Socket, free_port, migrated_sqlite, start_server
from tests.oidc_provider import client as provider_client
from tests.oidc_provider import start_provider
from tests.sso.support import ACCOUNTS, at_provider, sign_in, start, with_param

pytestmark = pytest.mark.django_db


@pytest.fixture
def site(tmp_path):
    """The app on a known port, and a provider that knows it as a client."""
    port = free_port()
    app_url = f"http://127.0.0.1:{port}"
    provider = start_provider(
        clients=[provider_client(app_url=app_url)],
        accounts=ACCOUNTS,
        log_path=tmp_path / "provider.log",
    )
    env = migrated_sqlite(tmp_path) | {
        "OIDC_ISSUER": provider.issuer,
        "OIDC_CLIENT_ID": "chat",
        "OIDC_CLIENT_SECRET": "chat-secret",
        "OIDC_SCOPES": "openid profile email groups",
        "OIDC_GROUP_MAP": "chat-reviewers=Reviewers",
        "OIDC_STAFF_GROUPS": "chat-staff",
    }
    # An administrator first, so the provider's users are ordinary accounts.
    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            "from django.contrib.auth.models import User; User.objects.create_superuser('root', password='pw-root-12345')",
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        check=True,
    )
    server = start_server(env, tmp_path / "server.log", port=port)
    yield server, provider
    server.stop()
    provider.stop()


def csrf(app: httpx2.Client, path: str = "/accounts/login/") -> str:
    page = app.get(path)
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)


def sso_sign_in(server, idp: httpx2.Client, account: str) -> httpx2.Client:
    """Sign in to the live app with the provider; the app's client, signed in."""
    app = httpx2.Client(base_url=server.url, timeout=20, headers={"Origin": server.url})
    token = csrf(app)
    start = app.post(
        "/accounts/oidc/sso/login/", data={"csrfmiddlewaretoken": token, "process": "login"}
    )
    assert start.status_code == 302, start.text[:500]
    back = at_provider(start.headers["location"], account, idp=idp)
    done = app.get(back)
    assert done.status_code == 302 and done.headers["location"] == "/", done.text[:500]
    assert app.get("/settings/").status_code == 200
    return app


async def closes_with(socket: Socket) -> int:
    with pytest.raises(websockets.ConnectionClosed) as closed:
        while True:
            await socket.receive(timeout=20)
    return closed.value.rcvd.code


async def test_the_providers_back_channel_logout_ends_the_session_and_its_socket(site):
    server, provider = site
    with httpx2.Client(timeout=20) as idp:
        app = sso_sign_in(server, idp, "rita")
        socket = await Socket.open(server, f"sessionid={app.cookies['sessionid']}")
        # Signed out at the provider (elsewhere, by the user or the provider's staff).
        page = idp.get(f"{provider.issuer}/session/end")
        assert page.status_code == 200
        form = re.search(r'<form[^>]*action="([^"]+)"[^>]*>(.*?)</form>', page.text, re.S)
        fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form.group(2)))
        done = idp.post(
            httpx2.URL(provider.issuer).join(form.group(1)), data=fields | {"logout": "yes"}
        )
        assert done.status_code in (200, 302, 303)
        assert await closes_with(socket) == 4401
    response = app.get("/settings/")
    assert response.status_code == 302 and response.headers["location"].startswith(
        "/accounts/login/"
    )
    assert "Back-channel logout ended 1 session(s)" in server.log()


async def test_signing_out_closes_the_socket_and_signs_out_at_the_provider(site):
    server, provider = site
    with httpx2.Client(timeout=20) as idp:
        app = sso_sign_in(server, idp, "rita")
        socket = await Socket.open(server, f"sessionid={app.cookies['sessionid']}")
        out = app.post("/accounts/logout/", data={"csrfmiddlewaretoken": csrf(app, "/settings/")})
        assert await closes_with(socket) == 4401
        assert out.status_code == 302
        end = urlparse(out.headers["location"])
        query = parse_qs(end.query)
        assert out.headers["location"].startswith(f"{provider.issuer}/session/end")
        assert query["post_logout_redirect_uri"] == [f"{server.url}/accounts/login/"]
        assert query["id_token_hint"][0].count(".") == 2
        page = idp.get(out.headers["location"])
        form = re.search(r'<form[^>]*action="([^"]+)"[^>]*>(.*?)</form>', page.text, re.S)
        fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form.group(2)))
        back = idp.post(
            httpx2.URL(provider.issuer).join(form.group(1)), data=fields | {"logout": "yes"}
        )
        assert back.status_code in (302, 303)
        assert back.headers["location"].startswith(f"{server.url}/accounts/login/")
        # Signed out at the provider too: signing in again asks for the account again.
        again = app.post(
            "/accounts/oidc/sso/login/",
            data={"csrfmiddlewaretoken": csrf(app), "process": "login"},
        )
        first = idp.get(again.headers["location"])
        assert first.status_code in (302, 303)
        assert (
            'name="login"'
            in idp.get(httpx2.URL(provider.issuer).join(first.headers["location"])).text
        )


def test_a_single_sign_on_account_enrols_a_factor_after_a_fresh_sign_in(client, sso, user):
    sign_in(client, "rita")
    session = client.session
    records = session["account_authentication_methods"]
    for record in records:
        record["at"] -= 3600
    session["account_authentication_methods"] = records
    session.save()
    asked = client.get("/accounts/2fa/totp/activate/")
    assert asked.status_code == 302
    assert (
        asked["Location"]
        == "/accounts/sso/reauthenticate/?next=%2Faccounts%2F2fa%2Ftotp%2Factivate%2F"
    )
    assert client.get(asked["Location"]).status_code == 200
    go = client.post("/accounts/sso/reauthenticate/", {"next": "/accounts/2fa/totp/activate/"})
    query = parse_qs(urlparse(go["Location"]).query)
    assert query["prompt"] == ["login"] and query["max_age"] == ["300"]
    # Another account's fresh sign-in does not count.
    other = client.get(_path(at_provider(go["Location"], "vera")))
    assert other.status_code == 403
    assert client.get("/accounts/2fa/totp/activate/").status_code == 302
    go = client.post("/accounts/sso/reauthenticate/", {"next": "/accounts/2fa/totp/activate/"})
    back = client.get(_path(at_provider(go["Location"], "rita")))
    assert back.status_code == 302 and back["Location"] == "/accounts/2fa/totp/activate/"
    assert client.get("/accounts/2fa/totp/activate/").status_code == 200
    # A forged nonce on a fresh sign-in is refused like any other.
    go = client.post("/accounts/sso/reauthenticate/", {"next": "/"})
    refused = client.get(_path(at_provider(with_param(go["Location"], nonce="x" * 43), "rita")))
    assert refused.status_code == 401


def _path(url: str) -> str:
    parsed = urlparse(url)
    return f"{parsed.path}?{parsed.query}"


__all__ = ["start"]
