"""The provider as allauth's settings describe it, made from the environment's values.

Imported by chatsite/settings.py (and by the tests, to point the app at a provider of their
own): it reads nothing itself.
"""

PROVIDER_ID = "sso"


def provider_app(*, issuer: str, client_id: str, secret: str, scopes: list[str], name: str) -> dict:
    """One entry of SOCIALACCOUNT_PROVIDERS["openid_connect"]["APPS"]."""
    asked = ["openid", *(scope for scope in scopes if scope != "openid")]
    return {
        "provider_id": PROVIDER_ID,
        "name": name,
        "client_id": client_id,
        "secret": secret,
        "settings": {
            # allauth appends /.well-known/openid-configuration and reads the endpoints.
            "server_url": issuer.rstrip("/"),
            "scope": asked,
            # Authorization code flow with PKCE (S256), always.
            "oauth_pkce_enabled": True,
            # The groups claim may come only from userinfo (as node-oidc-provider sends it).
            "fetch_userinfo": True,
        },
    }
