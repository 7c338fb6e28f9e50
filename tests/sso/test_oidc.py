"""Single sign-on against a real OpenID provider (node-oidc-provider) on loopback: the
authorization code flow with PKCE, accounts keyed on iss+sub, the groups claim, and each
way a sign-in must fail."""

from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from allauth.socialaccount.models import SocialAccount
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from conversations.accounts import selectors as account_selectors
from conversations.accounts import services as account_services
from conversations.sso.models import SsoSession
from conversations.sso.oidc import account_uid
from tests.live_server import free_port
from tests.oidc_provider import client as provider_client
from tests.oidc_provider import start_provider
from tests.sso.support import (
    ACCOUNTS,
    APP,
    at_provider,
    back_to_app,
    sign_in,
    start,
    use_provider,
    with_param,
)

pytestmark = pytest.mark.django_db

REFUSED = "Signing in did not work"


def signed_in_as(client):
    response = client.get("/settings/")
    if response.status_code != 200:
        return None
    return response.wsgi_request.user


def test_the_code_flow_with_pkce_makes_an_account_keyed_on_issuer_and_subject(client, sso, user):
    authorize = start(client)
    query = parse_qs(urlparse(authorize).query)
    assert query["response_type"] == ["code"]
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) >= 43
    assert query["state"][0] and len(query["nonce"][0]) >= 32
    response = back_to_app(client, at_provider(authorize, "rita"))
    assert response.status_code == 302 and response["Location"] == "/"
    rita = signed_in_as(client)
    assert rita is not None and rita.username == "rita"
    account = SocialAccount.objects.get(user=rita)
    assert account.uid == account_uid(issuer=sso.issuer, subject="rita")
    assert account.uid == f"{sso.issuer}#rita"
    assert rita.email == "rita@example.com"  # Verified at the provider.
    assert not rita.has_usable_password()
    # A second sign-in finds the same account, by iss+sub.
    client.logout()
    sign_in(client, "rita")
    assert signed_in_as(client).pk == rita.pk
    assert get_user_model().objects.filter(username__startswith="rita").count() == 1


def test_the_provider_refuses_a_sign_in_without_pkce(client, sso, user):
    """The provider requires PKCE: without the challenge it sends no code at all."""
    import httpx2

    authorize = start(client)
    parsed = urlparse(authorize)
    query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
    del query["code_challenge"], query["code_challenge_method"]
    stripped = parsed._replace(query="&".join(f"{k}={v}" for k, v in query.items())).geturl()
    back = at_provider(stripped, "rita", idp=httpx2.Client(timeout=10))
    assert "code=" not in back and "error=invalid_request" in back
    response = back_to_app(client, back)
    assert REFUSED in response.content.decode()
    assert signed_in_as(client) is None


def test_the_groups_claim_maps_groups_and_staff_at_every_sign_in(client, sso, user):
    sign_in(client, "rita")
    rita = get_user_model().objects.get(username="rita")
    assert set(rita.groups.values_list("name", flat=True)) == {"Reviewers"}
    assert rita.is_staff and not rita.is_superuser
    # A group staff gave here, not in the map, stays whatever the claim says.
    rita.groups.add(Group.objects.create(name="Beta testers"))
    # Removed from the reviewers and staff at the provider, added to the writers.
    sso.set_account("rita", ACCOUNTS["rita"] | {"groups": ["chat-writers"]})
    client.logout()
    sign_in(client, "rita")
    rita.refresh_from_db()
    assert set(rita.groups.values_list("name", flat=True)) == {"Writers", "Beta testers"}
    assert not rita.is_staff and not rita.is_superuser


def test_a_claim_never_makes_a_superuser(client, sso, user, settings):
    settings.OIDC_GROUP_MAP = "chat-reviewers=Reviewers,everyone=admin"
    settings.OIDC_STAFF_GROUPS = ["chat-staff", "everyone"]
    sso.set_account("rita", ACCOUNTS["rita"] | {"is_superuser": True, "groups": ["everyone"]})
    sign_in(client, "rita")
    rita = get_user_model().objects.get(username="rita")
    assert rita.is_staff and not rita.is_superuser


def test_a_wrong_state_is_refused_and_counts_as_a_failed_sign_in(client, sso, user):
    back = at_provider(start(client), "rita")
    response = back_to_app(client, with_param(back, state="forged-state-value"))
    assert response.status_code == 401 and REFUSED in response.content.decode()
    assert signed_in_as(client) is None
    assert not get_user_model().objects.filter(username="rita").exists()
    assert AccessAttempt.objects.filter(failures_since_start__gte=1).exists()
    # No state at all is refused too.
    back = at_provider(start(client), "rita")
    parsed = urlparse(back)
    code = parse_qs(parsed.query)["code"][0]
    response = client.get(f"{parsed.path}?code={code}")
    assert REFUSED in response.content.decode() and signed_in_as(client) is None


def test_a_wrong_nonce_is_refused(client, sso, user):
    """The provider puts in the ID token whatever nonce it was sent: one that is not the
    nonce this sign-in sent (a token minted for another sign-in) is refused."""
    authorize = with_param(start(client), nonce="a-nonce-this-sign-in-never-sent")
    response = back_to_app(client, at_provider(authorize, "rita"))
    assert REFUSED in response.content.decode()
    assert signed_in_as(client) is None
    assert not get_user_model().objects.filter(username="rita").exists()


def test_an_expired_id_token_is_refused(client, settings, user, tmp_path):
    """A provider whose clock is 700 s behind issues ID tokens (valid for 600 s)
    that expired 100 s ago by this server's clock, past the 30 s allowed for skew."""
    late = start_provider(
        clients=[provider_client(app_url=APP, backchannel=False)],
        accounts=ACCOUNTS,
        log_path=tmp_path / "late.log",
        clock_offset=-700,
    )
    try:
        use_provider(settings, late.issuer)
        response = sign_in(client, "rita")
    finally:
        late.stop()
    assert REFUSED in response.content.decode()
    assert signed_in_as(client) is None


def test_an_unverified_email_is_not_kept_and_no_email_finds_an_account(client, sso, user):
    user.email = "alice@example.com"
    user.save()
    response = sign_in(client, "impostor")
    assert response.status_code == 302
    impostor = signed_in_as(client)
    assert impostor.pk != user.pk and impostor.username != "alice"
    assert impostor.email == ""  # Not verified at the provider: not kept.
    assert not SocialAccount.objects.filter(user=user).exists()
    # Verified or not, an address never finds an account: a new one again.
    client.logout()
    sso.set_account("impostor", ACCOUNTS["impostor"] | {"email_verified": True})
    sign_in(client, "impostor")
    assert signed_in_as(client).pk == impostor.pk  # Its own, by iss+sub.
    assert not SocialAccount.objects.filter(user=user).exists()


def test_a_provider_that_is_down_is_said_so(client, settings, user):
    use_provider(settings, f"http://127.0.0.1:{free_port()}")
    response = client.post("/accounts/oidc/sso/login/", {"process": "login"})
    assert response.status_code == 502
    assert "cannot be reached" in response.content.decode()
    assert signed_in_as(client) is None


def test_a_session_the_provider_made_ends_at_its_maximum_age(client, sso, user, settings):
    settings.OIDC_SESSION_SECONDS = 600
    before = timezone.now()
    sign_in(client, "rita")
    rita = get_user_model().objects.get(username="rita")
    key = client.session.session_key
    row = SsoSession.objects.get(session_key=key)
    session = Session.objects.get(session_key=key)
    assert (
        before + timedelta(seconds=600) <= row.expires_at <= timezone.now() + timedelta(seconds=600)
    )
    assert abs((session.expire_date - row.expires_at).total_seconds()) < 1
    # Using the session does not renew it.
    client.get("/settings/")
    assert Session.objects.get(session_key=key).expire_date == session.expire_date
    assert account_selectors.session_signs_in(session_key=key, user_id=rita.pk)
    Session.objects.filter(session_key=key).update(expire_date=timezone.now())
    assert not account_selectors.session_signs_in(session_key=key, user_id=rita.pk)
    assert signed_in_as(client) is None


def test_the_first_account_by_single_sign_on_needs_the_setup_token(client, sso):
    assert not get_user_model().objects.exists()
    remote = {"REMOTE_ADDR": "203.0.113.9"}
    page = client.get("/accounts/login/", **remote)
    assert 'name="setup_token"' in page.content.decode()
    authorize = client.post("/accounts/oidc/sso/login/", {"process": "login"}, **remote)
    response = client.get(_callback_path(at_provider(authorize["Location"], "rita")), **remote)
    assert response.status_code == 403 and "setup token" in response.content.decode()
    assert not get_user_model().objects.exists()
    token = account_services.setup_token_issue()
    authorize = client.post(
        "/accounts/oidc/sso/login/", {"process": "login", "setup_token": token}, **remote
    )
    response = client.get(_callback_path(at_provider(authorize["Location"], "rita")), **remote)
    assert response.status_code == 302
    rita = get_user_model().objects.get()
    assert rita.is_superuser and rita.is_staff
    assert not account_services.setup_token_consume(token)  # Used up.


def _callback_path(url: str) -> str:
    parsed = urlparse(url)
    return f"{parsed.path}?{parsed.query}"


def test_local_passwords_can_be_turned_off(client, sso, user, settings):
    settings.CHAT_LOCAL_PASSWORDS = False
    page = client.get("/accounts/login/").content.decode()
    assert "Sign in with Test provider" in page and 'name="password"' not in page
    refused = client.post("/accounts/login/", {"username": "alice", "password": "pw-alice-123"})
    assert refused.status_code == 403 and signed_in_as(client) is None
    assert client.get("/accounts/signup/").status_code == 403
    sign_in(client, "rita")
    assert signed_in_as(client).username == "rita"


def test_a_local_account_is_linked_only_after_its_password(client, sso, user):
    client.force_login(user)
    back = at_provider(start(client, process="connect"), "vera")
    response = back_to_app(client, back)
    # The link waits for the account's password.
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/reauthenticate/")
    assert not SocialAccount.objects.filter(user=user).exists()
    wrong = client.post(response["Location"], {"password": "not-the-password"})
    assert wrong.status_code == 200 and not SocialAccount.objects.filter(user=user).exists()
    right = client.post(response["Location"], {"password": "pw-alice-123"})
    assert right.status_code == 302
    assert SocialAccount.objects.get(user=user).uid == f"{sso.issuer}#vera"
    assert AccessAttempt.objects.filter(path_info="/accounts/reauthenticate/").exists()
    # Signing in as vera at the provider now signs in alice's account.
    client.logout()
    sign_in(client, "vera")
    assert signed_in_as(client).pk == user.pk


def test_settings_show_the_sign_in_and_a_single_sign_on_account_signs_out_everywhere(
    client, sso, user
):
    client.force_login(user)
    page = client.get("/settings/").content.decode()
    assert 'id="two-factor-status">off<' in page and 'href="/accounts/2fa/"' in page
    assert "Link to Test provider" in page and 'id="password-form"' in page
    client.logout()
    sign_in(client, "rita")
    page = client.get("/settings/").content.decode()
    assert "This account signs in with Test provider." in page
    assert 'id="password-form"' not in page and 'name="password"' not in page
    # Signed in just now: signing out everywhere needs nothing more, and ends this session.
    response = client.post("/settings/sign-out-everywhere/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert signed_in_as(client) is None


def forged_token(issuer: str, **claims) -> str:
    """A JWT shaped like the provider's (its key id, RS256) but signed with another key."""
    import time as _time

    import jwt
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(_time.time())
    body = {"iss": issuer, "aud": "chat", "iat": now, "exp": now + 300, **claims}
    return jwt.encode(body, key, algorithm="RS256", headers={"kid": "test-key"})


def test_a_token_not_signed_by_the_provider_is_refused(sso):
    from allauth.socialaccount.providers.oauth2.client import OAuth2Error

    from conversations.sso.oidc import verify_jwt

    config = {"issuer": sso.issuer, "jwks_uri": f"{sso.issuer}/jwks"}
    with pytest.raises(OAuth2Error):
        verify_jwt(
            forged_token(sso.issuer, sub="rita"),
            config=config,
            audience="chat",
            required=["iss", "sub"],
        )


def test_a_forged_back_channel_logout_ends_nothing(client, sso, user):
    sign_in(client, "rita")
    event = {"http://schemas.openid.net/event/backchannel-logout": {}}
    token = forged_token(sso.issuer, sub="rita", events=event, jti="forged-1")
    response = Client().post("/accounts/oidc/sso/backchannel-logout/", {"logout_token": token})
    assert response.status_code == 400
    assert signed_in_as(client) is not None
