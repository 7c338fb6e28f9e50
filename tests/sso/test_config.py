"""The provider as allauth's settings describe it: made from the environment's values,
always with `openid`, PKCE and userinfo, and read by allauth as the app's one provider."""

import json
import os
import subprocess
import sys

import pytest
from allauth.socialaccount.adapter import get_adapter
from django.test import RequestFactory

from conversations.sso.config import PROVIDER_ID, provider_app
from conversations.sso.oidc import ChatOIDCAdapter
from tests.live_server import ROOT


def test_an_app_asks_for_openid_first_and_once_and_always_uses_pkce():
    app = provider_app(
        issuer="https://idp.example/realms/chat/",
        client_id="chat",
        secret="s3cret",
        scopes=["profile", "openid", "email", "openid"],
        name="Company sign-in",
    )
    assert app == {
        "provider_id": PROVIDER_ID,
        "name": "Company sign-in",
        "client_id": "chat",
        "secret": "s3cret",
        "settings": {
            "server_url": "https://idp.example/realms/chat",  # allauth adds the well-known path.
            "scope": ["openid", "profile", "email"],
            "oauth_pkce_enabled": True,
            "fetch_userinfo": True,
        },
    }
    bare = provider_app(issuer="https://idp.example", client_id="c", secret="", scopes=[], name="")
    assert bare["settings"]["scope"] == ["openid"]


def test_the_settings_make_the_app_from_the_environment():
    """chatsite/settings.py with OIDC_* set: single sign-on on, one app made by provider_app."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "chatsite.settings_test",
        "OIDC_ISSUER": "https://idp.example/",
        "OIDC_CLIENT_ID": "chat-client",
        "OIDC_CLIENT_SECRET": "chat-secret",
        "OIDC_SCOPES": "profile,email groups",
        "OIDC_PROVIDER_NAME": "Company sign-in",
    }
    script = (
        "import json; from django.conf import settings; "
        "print(json.dumps([settings.SSO_ENABLED, settings.SOCIALACCOUNT_PROVIDERS]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    enabled, providers = json.loads(done.stdout)
    assert enabled is True
    assert providers["openid_connect"]["APPS"] == [
        provider_app(
            issuer="https://idp.example",
            client_id="chat-client",
            secret="chat-secret",
            scopes=["profile", "email", "groups"],
            name="Company sign-in",
        )
    ]
    assert (
        providers["openid_connect"]["provider_class"] == "conversations.sso.oidc.ChatOIDCProvider"
    )


@pytest.mark.django_db
def test_allauth_reads_the_app_and_finds_the_providers_endpoints_from_its_issuer(sso):
    request = RequestFactory().get("/")
    app = get_adapter().get_app(request, provider=PROVIDER_ID)
    assert (app.provider_id, app.client_id, app.secret) == (PROVIDER_ID, "chat", "chat-secret")
    adapter = ChatOIDCAdapter(request, PROVIDER_ID)
    assert adapter.openid_config["issuer"] == sso.issuer
    assert adapter.authorize_url.startswith(f"{sso.issuer}/")
    assert adapter.get_provider().get_scope() == ["openid", "profile", "email", "groups"]
