"""Single sign-on pages: starting a sign-in and its callback under the sign-in limits, a
provider that cannot be reached said so (never a server error), the back-channel logout
endpoint's refusals, a fresh sign-in asked for by a page, and signing out (at the
provider too)."""

import html
import logging
from urllib.parse import parse_qs, urlparse

import pytest
from django.test import Client

from conversations.accounts.login_throttle import sign_in_failed
from conversations.sso.adapter import sso_credentials
from conversations.sso.models import SsoSession
from conversations.web.sso_views import FRESH_SECONDS, UNREACHABLE
from tests.live_server import free_port
from tests.oidc_provider import client as provider_client
from tests.oidc_provider import start_provider
from tests.sso.support import ACCOUNTS, APP, at_provider, back_to_app, sign_in, use_provider

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/oidc/sso/login/"
CALLBACK = "/accounts/oidc/sso/login/callback/"
BACKCHANNEL = "/accounts/oidc/sso/backchannel-logout/"
REAUTHENTICATE = "/accounts/sso/reauthenticate/"


@pytest.fixture(scope="module")
def provider(tmp_path_factory):
    log = tmp_path_factory.mktemp("oidc") / "provider.log"
    started = start_provider(
        clients=[provider_client(app_url=APP, backchannel=False)], accounts=ACCOUNTS, log_path=log
    )
    yield started
    started.stop()


@pytest.fixture
def sso(settings, provider):
    use_provider(settings, provider.issuer)
    return provider


@pytest.fixture
def down(settings):
    """Single sign-on on, with a provider that is not there."""
    use_provider(settings, f"http://127.0.0.1:{free_port()}")


def text(response) -> str:
    return html.unescape(response.content.decode())


def signed_in(client: Client) -> bool:
    return client.get("/settings/").status_code == 200


def test_without_single_sign_on_its_pages_are_not_found(client, user, settings):
    assert settings.SSO_ENABLED is False
    assert client.post(LOGIN, {"process": "login"}).status_code == 404
    assert client.get(f"{CALLBACK}?code=c&state=s").status_code == 404
    assert client.post(BACKCHANNEL, {"logout_token": "x.y.z"}).status_code == 404
    client.force_login(user)
    assert client.post(REAUTHENTICATE, {"next": "/"}).status_code == 404


def test_only_the_configured_provider_is_there(client, down):
    assert client.post("/accounts/oidc/other/login/", {"process": "login"}).status_code == 404
    assert client.get("/accounts/oidc/other/login/callback/?code=c&state=s").status_code == 404
    assert client.post("/accounts/oidc/other/backchannel-logout/").status_code == 404


def test_a_sign_in_starts_only_with_a_post(client, down):
    assert client.get(LOGIN).status_code == 405


def test_a_provider_that_cannot_be_reached_is_said_so(client, down, caplog):
    with caplog.at_level(logging.WARNING, logger="conversations.web.sso_views"):
        response = client.post(LOGIN, {"process": "login"})
    assert response.status_code == 502
    assert UNREACHABLE in text(response)
    assert "Signing in did not work" in text(response)
    assert [r.getMessage() for r in caplog.records if r.name == "conversations.web.sso_views"] == [
        "Single sign-on failed at the provider: ConnectionError"
    ]


def test_a_provider_that_goes_down_during_a_sign_in_is_said_so(client, settings, tmp_path):
    """It sent the browser back with a code, then could not be reached to exchange it."""
    brief = start_provider(
        clients=[provider_client(app_url=APP, backchannel=False)],
        accounts=ACCOUNTS,
        log_path=tmp_path / "provider.log",
    )
    try:
        use_provider(settings, brief.issuer)
        started = client.post(LOGIN, {"process": "login"})
        back = at_provider(started["Location"], "rita")
    finally:
        brief.stop()
    response = back_to_app(client, back)
    assert response.status_code == 502 and UNREACHABLE in text(response)
    assert not signed_in(client)


def test_a_locked_out_address_does_not_reach_the_provider(client, down, settings):
    request = client.get("/accounts/login/").wsgi_request
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in_failed(request=request, credentials=sso_credentials(request))
    # Locked out: the lockout page, not the provider's absence (which would be a 502).
    response = client.post(LOGIN, {"process": "login"})
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert "Too many failed sign-ins" in text(response)
    assert client.get(f"{CALLBACK}?code=c&state=s").status_code == 429
    # Another address is not locked out by this one's failures.
    elsewhere = Client(REMOTE_ADDR="198.51.100.20").post(LOGIN, {"process": "login"})
    assert elsewhere.status_code == 502


def test_the_back_channel_logout_takes_only_a_post_with_a_token(down):
    # The provider posts without a CSRF token: a bad token is refused as bad, not as CSRF.
    provider = Client(enforce_csrf_checks=True)
    assert provider.get(BACKCHANNEL).status_code == 405
    for form in ({}, {"logout_token": ""}, {"logout_token": "x" * 20000}):
        response = provider.post(BACKCHANNEL, form)
        assert response.status_code == 400, form
        assert response.content == b"invalid logout token"
        assert response["Cache-Control"] == "no-store"


def test_a_back_channel_logout_while_the_provider_is_down_is_refused(down):
    token = "eyJhbGciOiJSUzI1NiIsImtpZCI6InRlc3Qta2V5In0.eyJzdWIiOiJyaXRhIn0.c2ln"
    response = Client().post(BACKCHANNEL, {"logout_token": token})
    assert response.status_code == 400 and response["Cache-Control"] == "no-store"


def test_a_fresh_sign_in_needs_a_signed_in_account(client, down):
    response = client.get(f"{REAUTHENTICATE}?next=/settings/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/accounts/sso/reauthenticate/")


def test_the_fresh_sign_in_page_returns_only_to_this_site(client, user, down):
    client.force_login(user)
    page = client.get(f"{REAUTHENTICATE}?next=/accounts/2fa/totp/activate/")
    assert page.status_code == 200 and page.context["next"] == "/accounts/2fa/totp/activate/"
    assert 'value="/accounts/2fa/totp/activate/"' in page.content.decode()
    for elsewhere in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)"):
        page = client.get(REAUTHENTICATE, {"next": elsewhere})
        assert page.context["next"] == "/settings/", elsewhere
    assert client.get(REAUTHENTICATE).context["next"] == "/settings/"


def test_a_fresh_sign_in_asks_the_provider_to_sign_in_again(client, user, sso):
    sign_in(client, "rita")
    go = client.post(REAUTHENTICATE, {"next": "/accounts/2fa/"})
    assert go.status_code == 302 and go["Location"].startswith(f"{sso.issuer}/")
    query = parse_qs(urlparse(go["Location"]).query)
    assert query["prompt"] == ["login"] and query["max_age"] == [str(FRESH_SECONDS)]


def test_a_fresh_sign_in_with_the_provider_down_is_said_so(client, user, down):
    client.force_login(user)
    response = client.post(REAUTHENTICATE, {"next": "/settings/"})
    assert response.status_code == 502 and UNREACHABLE in text(response)
    assert signed_in(client)


def test_signing_out_is_a_post(client, user):
    client.force_login(user)
    assert client.get("/accounts/logout/").status_code == 405
    assert signed_in(client)
    response = client.post("/accounts/logout/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert not signed_in(client)


def test_signing_out_a_session_the_provider_made_signs_out_there_too(client, user, sso):
    sign_in(client, "rita")
    id_token = client.session["sso"]["id_token"]
    key = client.session.session_key
    assert SsoSession.objects.filter(session_key=key).exists()
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    end = urlparse(response["Location"])
    assert f"{end.scheme}://{end.netloc}{end.path}" == f"{sso.issuer}/session/end"
    query = parse_qs(end.query)
    assert query["id_token_hint"] == [id_token]
    assert query["client_id"] == ["chat"]
    assert query["post_logout_redirect_uri"] == [f"{APP}/accounts/login/"]
    assert len(query["state"][0]) >= 16
    assert not signed_in(client)  # Signed out here first.
    assert not SsoSession.objects.filter(session_key=key).exists()


def test_signing_out_with_the_provider_down_still_signs_out_here(client, user, sso, settings):
    sign_in(client, "rita")
    use_provider(settings, f"http://127.0.0.1:{free_port()}")
    response = client.post("/accounts/logout/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert not signed_in(client)


def test_with_single_sign_on_turned_off_a_sign_out_stays_here(client, user, sso, settings):
    sign_in(client, "rita")
    settings.SSO_ENABLED = False
    response = client.post("/accounts/logout/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert not signed_in(client)
