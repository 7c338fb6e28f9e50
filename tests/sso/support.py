"""Signing in through the test provider: the app's side with Django's test client, the
provider's side with an HTTP client of its own (its cookies, its pages), as a browser would."""

from urllib.parse import parse_qs, urlencode, urlparse, urlunparse

import httpx2

from conversations.sso.config import provider_app

APP = "http://testserver"
GROUP_MAP = "chat-reviewers=Reviewers,chat-writers=Writers"
STAFF_GROUPS = ["chat-staff"]
ACCOUNTS = {
    "rita": {
        "preferred_username": "rita",
        "email": "rita@example.com",
        "email_verified": True,
        "groups": ["chat-reviewers", "chat-staff", "everyone"],
    },
    # Claims an address and a name that belong to a local account, unverified.
    "impostor": {
        "preferred_username": "alice",
        "email": "alice@example.com",
        "email_verified": False,
        "groups": [],
    },
    "vera": {"preferred_username": "vera", "email": "vera@example.com", "email_verified": True},
}


def use_provider(settings, issuer: str, **extra) -> None:
    """Point the app at a provider (as OIDC_ISSUER and friends would)."""
    settings.SSO_ENABLED = True
    settings.OIDC_ISSUER = issuer
    settings.OIDC_CLIENT_ID = "chat"
    settings.OIDC_GROUP_MAP = GROUP_MAP
    settings.OIDC_STAFF_GROUPS = STAFF_GROUPS
    settings.OIDC_PROVIDER_NAME = "Test provider"
    app = provider_app(
        issuer=issuer,
        client_id="chat",
        secret="chat-secret",
        scopes=["openid", "profile", "email", "groups"],
        name="Test provider",
    )
    settings.SOCIALACCOUNT_PROVIDERS = {
        "openid_connect": {
            "provider_class": "conversations.sso.oidc.ChatOIDCProvider",
            "OAUTH_PKCE_ENABLED": True,
            "APPS": [app],
        }
    }
    for name, value in extra.items():
        setattr(settings, name, value)


def start(client, *, process: str = "login", **form) -> str:
    """Press "Sign in with …": the provider's authorization URL the app sends us to."""
    response = client.post("/accounts/oidc/sso/login/", {"process": process, **form})
    assert response.status_code == 302, response.content[:500]
    return response["Location"]


def at_provider(authorize: str, account: str, idp: httpx2.Client | None = None) -> str:
    """Sign in at the provider as `account` and consent; the app URL it sends back to."""
    own = idp is None
    idp = idp or httpx2.Client(timeout=10)
    try:
        url = authorize
        for _ in range(20):
            response = idp.get(url)
            if response.status_code == 200 and 'name="login"' in response.text:
                action = response.text.split('action="', 1)[1].split('"', 1)[0]
                response = idp.post(httpx2.URL(url).join(action), data={"login": account})
            assert response.status_code in (302, 303), (response.status_code, response.text)
            url = str(httpx2.URL(url).join(response.headers["location"]))
            if not url.startswith(str(httpx2.URL(authorize).copy_with(path="/", query=None))):
                return url
        raise AssertionError("the provider never sent the browser back")
    finally:
        if own:
            idp.close()


def back_to_app(client, url: str):
    """Follow the provider's redirect to the app's callback."""
    parsed = urlparse(url)
    assert f"{parsed.scheme}://{parsed.netloc}" == APP, url
    return client.get(f"{parsed.path}?{parsed.query}")


def sign_in(client, account: str, **form):
    """The whole flow; the app's answer to the callback."""
    return back_to_app(client, at_provider(start(client, **form), account))


def with_param(url: str, **params) -> str:
    """`url` with some query parameters replaced."""
    parsed = urlparse(url)
    query = {k: v[0] for k, v in parse_qs(parsed.query).items()} | params
    return urlunparse(parsed._replace(query=urlencode(query)))
