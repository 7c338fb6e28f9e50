"""The provider's back-channel logout: logout tokens the test provider really signs and
sends (caught on their way to the app) end the sessions they name, once; anything else,
a token of another kind the provider signed included, ends nothing."""

import base64
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import httpx2
import jwt
import pytest
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.test import Client

from conversations.sso import backchannel
from conversations.sso.models import SsoSession
from tests.live_server import free_port
from tests.oidc_provider import client as provider_client
from tests.oidc_provider import start_provider
from tests.sso.support import ACCOUNTS, APP, at_provider, back_to_app, start, use_provider

pytestmark = pytest.mark.django_db


class Catcher(BaseHTTPRequestHandler):
    """Where the provider sends its back-channel logouts: each token is kept."""

    tokens: list[str] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        self.tokens.extend(parse_qs(body).get("logout_token", []))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def catcher():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Catcher)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/backchannel"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def provider(tmp_path_factory, catcher):
    """The test provider, with the test client's app as a client whose back-channel
    logout address is the catcher."""
    registration = provider_client(app_url=APP) | {"backchannel_logout_uri": catcher}
    started = start_provider(
        clients=[registration],
        accounts=ACCOUNTS,
        log_path=tmp_path_factory.mktemp("oidc") / "provider.log",
    )
    yield started
    started.stop()


@pytest.fixture
def sso(settings, provider):
    use_provider(settings, provider.issuer)
    Catcher.tokens.clear()
    cache.clear()  # The logout tokens' jti seen so far.
    yield provider
    cache.clear()


def config_of(issuer: str) -> dict:
    return httpx2.get(f"{issuer}/.well-known/openid-configuration", timeout=10).json()


def signed_in(client: Client) -> bool:
    return client.get("/settings/").status_code == 200


def sso_sign_in(account: str) -> tuple[Client, httpx2.Client]:
    """A browser signed in to the app with the provider; its client at the provider."""
    client, idp = Client(), httpx2.Client(timeout=10)
    response = back_to_app(client, at_provider(start(client), account, idp=idp))
    assert response.status_code == 302 and signed_in(client)
    return client, idp


def sign_out_at_provider(issuer: str, idp: httpx2.Client) -> str:
    """Sign out at the provider (as its user would); the logout token it sent the app."""
    page = idp.get(f"{issuer}/session/end")
    form = re.search(r'<form[^>]*action="([^"]+)"[^>]*>(.*?)</form>', page.text, re.S)
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form.group(2)))
    done = idp.post(httpx2.URL(issuer).join(form.group(1)), data=fields | {"logout": "yes"})
    assert done.status_code in (200, 302, 303), done.text[:500]
    deadline = time.monotonic() + 10
    while not Catcher.tokens and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(Catcher.tokens) == 1, "the provider sent no back-channel logout"
    return Catcher.tokens.pop()


def test_the_providers_logout_token_ends_the_session_it_names(sso):
    rita, rita_idp = sso_sign_in("rita")
    rita_elsewhere, _ = sso_sign_in("rita")  # Another browser: another provider session.
    vera, _ = sso_sign_in("vera")
    key = rita.session.session_key
    token = sign_out_at_provider(sso.issuer, rita_idp)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["sid"] == SsoSession.objects.get(session_key=key).sid
    response = Client(enforce_csrf_checks=True).post(
        "/accounts/oidc/sso/backchannel-logout/", {"logout_token": token}
    )
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    assert not signed_in(rita)
    assert not Session.objects.filter(session_key=key).exists()
    assert not SsoSession.objects.filter(session_key=key).exists()
    assert signed_in(rita_elsewhere) and signed_in(vera)


def test_a_logout_token_is_taken_once(sso):
    _, idp = sso_sign_in("rita")
    token = sign_out_at_provider(sso.issuer, idp)
    config = config_of(sso.issuer)
    assert backchannel.logout(token=token, config=config, client_id="chat") == 1
    with pytest.raises(OAuth2Error, match="used before"):
        backchannel.logout(token=token, config=config, client_id="chat")
    # Nor for another client: the token names this one as its audience.
    with pytest.raises(OAuth2Error):
        backchannel.logout(token=token, config=config, client_id="another-client")


def tampered(token: str, **changes) -> str:
    """The token with some claims changed, its signature kept."""
    header, body, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    body = base64.urlsafe_b64encode(json.dumps(claims | changes).encode()).rstrip(b"=")
    return f"{header}.{body.decode()}.{signature}"


def test_a_changed_logout_token_ends_nothing(sso):
    rita, idp = sso_sign_in("rita")
    vera, _ = sso_sign_in("vera")
    token = sign_out_at_provider(sso.issuer, idp)
    vera_sid = SsoSession.objects.get(session_key=vera.session.session_key).sid
    config = config_of(sso.issuer)
    for changed in (
        tampered(token, sid=vera_sid, sub="vera"),
        tampered(token, jti="a-new-one"),
        token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB"),
    ):
        with pytest.raises(OAuth2Error):
            backchannel.logout(token=changed, config=config, client_id="chat")
    assert signed_in(rita) and signed_in(vera)


def test_an_id_token_the_provider_signed_is_not_a_logout_token(sso):
    """The ID token is signed by the same keys, for the same audience, and names the same
    session and user: it still ends nothing, for it carries no logout event."""
    rita, _ = sso_sign_in("rita")
    id_token = rita.session["sso"]["id_token"]
    with pytest.raises(OAuth2Error, match="Not a back-channel logout token"):
        backchannel.logout(token=id_token, config=config_of(sso.issuer), client_id="chat")
    assert signed_in(rita)


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_a_token_signed_with_the_client_secret_is_refused(sso):
    rita, _ = sso_sign_in("rita")
    sid = SsoSession.objects.get(session_key=rita.session.session_key).sid
    now = int(time.time())
    claims = {
        "iss": sso.issuer,
        "aud": "chat",
        "iat": now,
        "exp": now + 60,
        "jti": "hs256",
        "sid": sid,
        "sub": "rita",
        "events": {backchannel.EVENT: {}},
    }
    for headers in ({"kid": "test-key"}, {}):
        token = jwt.encode(claims, "chat-secret", algorithm="HS256", headers=headers)
        with pytest.raises(OAuth2Error):
            backchannel.logout(token=token, config=config_of(sso.issuer), client_id="chat")
    assert signed_in(rita)


def test_no_token_or_one_too_large_is_refused_before_any_key_is_fetched():
    """The keys' address leads nowhere: these fail before anything is fetched."""
    nowhere = f"http://127.0.0.1:{free_port()}"
    config = {"issuer": nowhere, "jwks_uri": f"{nowhere}/jwks"}
    for token in ("", "x" * (backchannel.MAX_TOKEN + 1)):
        with pytest.raises(OAuth2Error, match="one too large"):
            backchannel.logout(token=token, config=config, client_id="chat")
