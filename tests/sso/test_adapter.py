"""How allauth's flows meet the app's rules (conversations/sso/adapter.py): whom a failed
single sign-on counts against, which notices are shown, how a fresh sign-in may be given,
a bounded and timed wait on the provider, a local account never taken over, and the first
account of a site."""

import gzip
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from allauth.socialaccount.models import SocialAccount
from allauth.socialaccount.providers.base.constants import AuthError
from axes.models import AccessAttempt
from django.contrib import messages
from django.contrib.auth import BACKEND_SESSION_KEY, get_user_model
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages.storage.fallback import FallbackStorage
from django.core.exceptions import ValidationError
from django.test import Client, RequestFactory

from conversations.accounts.sessions import SessionStore
from conversations.sso.adapter import (
    MAX_PROVIDER_RESPONSE,
    MODEL_BACKEND,
    AccountAdapter,
    SocialAccountAdapter,
    refused,
    sso_credentials,
)
from conversations.sso.config import PROVIDER_ID
from tests.sso.support import ACCOUNTS, sign_in

pytestmark = pytest.mark.django_db


def request_from(address: str = "127.0.0.1", **meta):
    request = RequestFactory().get("/", REMOTE_ADDR=address, **meta)
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    return request


def test_a_failed_single_sign_on_counts_against_its_address_under_a_name_no_account_has():
    credentials = sso_credentials(request_from("203.0.113.5"))
    assert credentials == {"username": " single sign-on from 203.0.113.5"}
    assert sso_credentials(request_from("not-an-address")) == {
        "username": " single sign-on from unknown"
    }
    with pytest.raises(ValidationError):
        get_user_model()(username=credentials["username"], password="x").full_clean()


def test_a_failed_callback_is_a_failed_sign_in_unless_cancelled_at_the_provider():
    adapter = SocialAccountAdapter()
    adapter.on_authentication_error(request_from("203.0.113.6"), None, error=AuthError.CANCELLED)
    assert not AccessAttempt.objects.exists()
    adapter.on_authentication_error(request_from("203.0.113.6"), None, error=AuthError.UNKNOWN)
    adapter.on_authentication_error(request_from("203.0.113.6"), None, error=AuthError.DENIED)
    attempt = AccessAttempt.objects.get()
    assert attempt.username == " single sign-on from 203.0.113.6"
    assert attempt.ip_address == "203.0.113.6" and attempt.failures_since_start == 2


def test_the_refusal_page_says_why():
    response = refused(request_from(), "That is not the account signed in here.")
    assert response.status_code == 403
    html = response.content.decode()
    assert "Signing in did not work" in html
    assert "That is not the account signed in here." in html
    assert refused(request_from(), "Down.", status=502).status_code == 502


def test_signed_in_and_signed_out_notices_are_not_shown_others_are(user):
    adapter = AccountAdapter()
    request = request_from()
    request.user = user
    for template in ("account/messages/logged_in.txt", "account/messages/logged_out.txt"):
        adapter.add_message(request, messages.SUCCESS, template, {"user": user})
    assert list(messages.get_messages(request)) == []
    adapter.add_message(request, messages.INFO, message="Your second factor was removed.")
    assert [str(m) for m in messages.get_messages(request)] == ["Your second factor was removed."]


def test_allauths_own_sign_up_is_closed():
    assert AccountAdapter().is_open_for_signup(request_from()) is False
    # The provider decides who may sign in with it.
    assert SocialAccountAdapter().is_open_for_signup(request_from(), None) is True


def test_a_sign_in_by_a_flow_keeps_the_model_backend(user):
    request = request_from()
    request.user = AnonymousUser()
    AccountAdapter().login(request, user)
    assert request.session[BACKEND_SESSION_KEY] == MODEL_BACKEND
    assert request.user == user


def reauthentication_ids(user) -> list[str]:
    return [method["id"] for method in AccountAdapter().get_reauthentication_methods(user)]


def test_a_fresh_sign_in_is_the_password_or_the_provider_as_the_account_has_them(user, settings):
    settings.OIDC_PROVIDER_NAME = "Company sign-in"
    assert reauthentication_ids(user) == ["reauthenticate"]
    SocialAccount.objects.create(user=user, provider=PROVIDER_ID, uid="https://idp#alice")
    methods = AccountAdapter().get_reauthentication_methods(user)
    assert methods[-1] == {
        "id": "sso_reauthenticate",
        "description": "Sign in again with Company sign-in",
        "url": "/accounts/sso/reauthenticate/",
    }
    assert reauthentication_ids(user) == ["reauthenticate", "sso_reauthenticate"]
    # With local passwords off, the password no longer confirms anyone.
    settings.CHAT_LOCAL_PASSWORDS = False
    assert reauthentication_ids(user) == ["sso_reauthenticate"]


def test_linking_an_account_returns_to_its_settings():
    assert SocialAccountAdapter().get_connect_redirect_url(request_from(), None) == (
        "/settings/#settings-sso"
    )


class Bodies(BaseHTTPRequestHandler):
    """Answers of a given size: /size/<n>, /gzip/<n> (n bytes once decompressed), /slow."""

    def do_GET(self):
        kind, _, size = self.path.strip("/").partition("/")
        if kind == "slow":
            time.sleep(2)
        body = b"0" * int(size or 0)
        self.send_response(200)
        if kind == "gzip":
            body = gzip.compress(body)
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def bodies():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Bodies)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_providers_answer_is_read_up_to_a_bound(bodies):
    with SocialAccountAdapter().get_requests_session() as session:
        response = session.get(f"{bodies}/size/{MAX_PROVIDER_RESPONSE}")
        assert len(response.content) == MAX_PROVIDER_RESPONSE
        with pytest.raises(requests.RequestException, match="too large"):
            session.get(f"{bodies}/size/{MAX_PROVIDER_RESPONSE + 1}")
        # The bound is on what it decompresses to, not on what came over the wire.
        with pytest.raises(requests.RequestException, match="too large"):
            session.get(f"{bodies}/gzip/{4 * MAX_PROVIDER_RESPONSE}")


def test_a_provider_that_does_not_answer_is_given_up_on(bodies, settings):
    settings.SOCIALACCOUNT_REQUESTS_TIMEOUT = 0.3
    started = time.monotonic()
    with SocialAccountAdapter().get_requests_session() as session:
        with pytest.raises(requests.Timeout):
            session.get(f"{bodies}/slow/")
    assert time.monotonic() - started < 1.5


def test_the_real_providers_documents_are_read_whole(sso):
    with SocialAccountAdapter().get_requests_session() as session:
        config = session.get(f"{sso.issuer}/.well-known/openid-configuration").json()
        assert config["issuer"] == sso.issuer
        keys = session.get(config["jwks_uri"]).json()["keys"]
    assert [key["kid"] for key in keys] == ["test-key"]


def test_a_local_account_of_the_same_name_is_never_taken_over(client, sso, django_user_model):
    local = django_user_model.objects.create_user(username="rita", password="pw-rita-local-1")
    assert sign_in(client, "rita").status_code == 302
    made = SocialAccount.objects.get().user
    assert made.pk != local.pk and made.username.startswith("rita") and made.username != "rita"
    assert made.email == "rita@example.com" and not made.has_usable_password()
    assert made.is_staff and set(made.groups.values_list("name", flat=True)) == {"Reviewers"}
    local.refresh_from_db()
    assert local.check_password("pw-rita-local-1")
    assert not local.is_staff and not local.groups.exists()  # The claim went to the new one.


def test_a_local_account_with_the_providers_verified_address_is_never_taken_over(
    client, sso, django_user_model, user
):
    """Someone with a local account whose address the provider has verified as one of its
    users' signs in with the provider for the first time: a new account, as for a name."""
    local = django_user_model.objects.create_user(
        username="rita-local", email="rita@example.com", password="pw-rita-local-1"
    )
    assert ACCOUNTS["rita"]["email_verified"] is True
    response = sign_in(client, "rita")
    assert response.status_code == 302 and response["Location"] == "/"
    made = SocialAccount.objects.get().user
    assert made.pk != local.pk and not made.has_usable_password()
    local.refresh_from_db()
    assert local.check_password("pw-rita-local-1") and not local.is_staff


def test_two_of_the_providers_users_with_one_verified_address_get_an_account_each(
    client, sso, user
):
    sso.set_account("vera", {**ACCOUNTS["vera"], "email": "rita@example.com"})
    assert sign_in(client, "rita").status_code == 302
    assert sign_in(Client(), "vera").status_code == 302
    owners = {account.uid: account.user_id for account in SocialAccount.objects.all()}
    assert len(owners) == 2 and len(set(owners.values())) == 2


def test_the_first_account_from_this_machine_is_the_administrator(sso, settings):
    settings.CHAT_SERVED_LOCALLY = True
    assert not get_user_model().objects.exists()
    # Through a proxy the request is not from this machine: no account without the token.
    proxied = Client(HTTP_X_FORWARDED_FOR="198.51.100.4")
    response = sign_in(proxied, "vera")
    assert response.status_code == 403 and "setup token" in response.content.decode()
    assert not get_user_model().objects.exists()
    assert sign_in(Client(), "vera").status_code == 302
    vera = get_user_model().objects.get()
    assert vera.is_superuser and vera.is_staff
    # The next account is an ordinary one; its staff status is the claim's.
    assert sign_in(Client(), "rita").status_code == 302
    rita = get_user_model().objects.get(username="rita")
    assert rita.is_staff and not rita.is_superuser
