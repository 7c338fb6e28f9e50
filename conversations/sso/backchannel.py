"""The provider's back-channel logout (OpenID Connect Back-Channel Logout 1.0, section 2.6).

A logout token is a JWT the provider signs and posts to the app when a user signs out
there or is signed out by it: it names a provider session (`sid`) or a user (`sub`), or
both. Its checks: the provider's signature, issuer, this client as audience, issue time
(and expiry when given), the back-channel logout event, no `nonce`, and one use of its
`jti` within its life. Then the sessions it names end here.
"""

import time

from allauth.socialaccount.models import SocialAccount
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from django.core.cache import cache

from . import services as sso_services
from .config import PROVIDER_ID
from .oidc import account_uid, verify_jwt

EVENT = "http://schemas.openid.net/event/backchannel-logout"
MAX_TOKEN = 16 * 1024
# A token's jti is remembered this long when it gives no expiry of its own.
JTI_SECONDS = 600


def logout(*, token: str, config: dict, client_id: str) -> int:
    """End the sessions a valid logout token names; how many. OAuth2Error if not valid."""
    if not token or len(token) > MAX_TOKEN:
        raise OAuth2Error("No logout token, or one too large.")
    claims = verify_jwt(token, config=config, audience=client_id, required=["iss", "aud", "iat"])
    events = claims.get("events")
    if not isinstance(events, dict) or not isinstance(events.get(EVENT), dict):
        raise OAuth2Error("Not a back-channel logout token.")
    if "nonce" in claims:
        raise OAuth2Error("A logout token carries no nonce.")
    sid, sub = str(claims.get("sid") or ""), str(claims.get("sub") or "")
    if not sid and not sub:
        raise OAuth2Error("The logout token names no session and no user.")
    jti = claims.get("jti")
    if jti:
        ttl = max(1, int(claims.get("exp") or time.time() + JTI_SECONDS) - int(time.time()))
        if not cache.add(f"sso-logout-jti:{claims['iss']}:{jti}"[:250], True, ttl):
            raise OAuth2Error("That logout token was used before.")
    issuer = str(claims["iss"])
    user_ids = None
    if sub:
        user_ids = list(
            SocialAccount.objects.filter(
                provider=PROVIDER_ID, uid=account_uid(issuer=issuer, subject=sub)
            ).values_list("user_id", flat=True)
        )
    return sso_services.sessions_end(issuer=issuer, sid=sid, user_ids=user_ids)
