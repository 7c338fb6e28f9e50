"""allauth's OpenID Connect provider with the checks this app adds to it.

allauth runs the authorization code flow (with PKCE, S256), keeps the `state`, exchanges
the code and reads the provider's discovery document, keys and userinfo. On top of it:

- a `nonce` is sent with every authorization request and must come back in the ID token
  (allauth sends none);
- the ID token's signature is always checked against the provider's keys (allauth skips
  it for a token fetched over TLS from the token endpoint), as are its issuer, audience,
  expiry and issue time, with `auth_time` when a fresh sign-in was asked for;
- userinfo must name the same `sub` as the ID token;
- an account is keyed on the token's `iss` and `sub` together (`account_uid`), so another
  issuer's user with the same `sub` is another account, and no email ever finds one;
- only the configured scopes and parameters are sent, never ones a link adds.
"""

import hashlib
import secrets
import time

from allauth.core.internal.deferred import jwt
from allauth.socialaccount.internal import jwtkit
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView
from allauth.socialaccount.providers.openid_connect.provider import OpenIDConnectProvider
from allauth.socialaccount.providers.openid_connect.views import OpenIDConnectOAuth2Adapter

# Seconds of clock difference allowed between the provider and this server.
LEEWAY = 30
# Signature algorithms an ID token may use: asymmetric only, so the client secret signs nothing.
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
# SocialAccount.uid holds at most 191 characters; longer pairs are kept as their digest.
UID_MAX = 191


def account_uid(*, issuer: str, subject: str) -> str:
    """What an account is keyed on: the issuer and the subject together. An issuer has no
    fragment (OpenID Connect Discovery), so `#` separates them unambiguously."""
    uid = f"{issuer}#{subject}"
    if len(uid) <= UID_MAX:
        return uid
    return "sha256:" + hashlib.sha256(uid.encode()).hexdigest()


def claims_of(data: dict) -> dict:
    """The verified ID token's claims, with userinfo's added (same `sub`, checked)."""
    return {**data.get("userinfo", {}), **data["id_token"]}


class ChatOIDCAdapter(OpenIDConnectOAuth2Adapter):
    """The OAuth 2 side: checks the ID token fully, nonce included."""

    # Set from the stashed state by ChatCallbackView before the code is exchanged.
    state: dict | None = None

    def complete_login(self, request, app, token, **kwargs):
        raw = kwargs["response"].get("id_token")
        if not raw:
            raise OAuth2Error("The provider sent no ID token.")
        state = self.state or {}
        claims = self.verify_id_token(app, raw, nonce=state.get("nonce"))
        if state.get("max_age") is not None:
            auth_time = claims.get("auth_time")
            if not isinstance(auth_time, int | float) or auth_time < time.time() - (
                state["max_age"] + LEEWAY
            ):
                raise OAuth2Error("The provider did not sign the user in afresh.")
        data = {"id_token": claims}
        if app.settings.get("fetch_userinfo", True) and self.openid_config.get("userinfo_endpoint"):
            userinfo = self._fetch_user_info(token.token)
            if not isinstance(userinfo, dict) or str(userinfo.get("sub")) != str(claims["sub"]):
                raise OAuth2Error("The provider's userinfo names another subject.")
            data["userinfo"] = userinfo
        # What signing out needs later (RP-initiated and back-channel logout); it travels
        # with the login through the second-factor step, in the session only.
        state["id_token_hint"] = raw
        state["sid"] = claims.get("sid") or ""
        return self.get_provider().sociallogin_from_response(request, data)

    def verify_id_token(self, app, raw: str, *, nonce: str | None) -> dict:
        claims = verify_jwt(
            raw,
            config=self.openid_config,
            audience=app.client_id,
            required=["iss", "sub", "aud", "exp", "iat"],
        )
        if not nonce or not secrets.compare_digest(str(claims.get("nonce", "")), nonce):
            raise OAuth2Error("The ID token's nonce is not the one this sign-in sent.")
        return claims


def verify_jwt(raw: str, *, config: dict, audience: str, required: list[str]) -> dict:
    """A JWT signed by the provider: its signature (the provider's published keys), issuer,
    audience and times. Raises OAuth2Error when any check fails."""
    try:
        header = jwt.get_unverified_header(raw)
        if header.get("alg") not in ALGORITHMS or not header.get("kid"):
            raise OAuth2Error("The token is not signed with one of the provider's keys.")
        alg, key = jwtkit.fetch_key(raw, config["jwks_uri"], jwtkit.lookup_kid_jwk)
        return jwt.decode(
            raw,
            key=key,
            algorithms=[alg],
            audience=audience,
            issuer=config["issuer"],
            leeway=LEEWAY,
            options={"require": required},
        )
    except (jwt.PyJWTError, KeyError, TypeError, ValueError) as exc:
        raise OAuth2Error(f"The token is not valid: {type(exc).__name__}.") from exc


class ChatCallbackView(OAuth2CallbackView):
    """allauth's callback, handing the stashed state (its nonce) to the adapter."""

    def _get_state(self, request, provider):
        state, response = super()._get_state(request, provider)
        if state is not None:
            self.adapter.state = state
        return state, response


class ChatOIDCProvider(OpenIDConnectProvider):
    """allauth's OpenID Connect provider: nonce, iss+sub accounts, no email lookups."""

    oauth2_adapter_class = ChatOIDCAdapter

    def get_redirect_from_request_kwargs(self, request) -> dict:
        kwargs = super().get_redirect_from_request_kwargs(request)
        # Scopes and parameters are the configured ones, not what a link asks for.
        kwargs.pop("scope", None)
        kwargs.pop("auth_params", None)
        # The first account of a site may need the setup token (sso/adapter.py): it waits in
        # the sign-in's state, in the session, until the account is made.
        token = request.POST.get("setup_token", "").strip()[:200]
        if token:
            kwargs["data"] = {"setup_token": token}
        return kwargs

    def redirect(self, request, process, next_url=None, data=None, **kwargs):
        nonce = secrets.token_urlsafe(32)
        auth_params = self.get_auth_params() | {"nonce": nonce}
        max_age = kwargs.pop("max_age", None)
        if max_age is not None:
            # A fresh sign-in: the provider must ask the user again, whatever its session.
            auth_params |= {"prompt": "login", "max_age": str(max_age)}
        return super().redirect(
            request,
            process,
            next_url=next_url,
            data=data,
            auth_params=auth_params,
            nonce=nonce,
            max_age=max_age,
            **kwargs,
        )

    def extract_uid(self, data) -> str:
        claims = data["id_token"]
        return account_uid(issuer=str(claims["iss"]), subject=str(claims["sub"]))

    def extract_common_fields(self, data) -> dict:
        claims = claims_of(data)
        # An address the provider has not verified is not kept (and none finds an account).
        email = claims.get("email") if claims.get("email_verified") is True else None
        return {
            "username": claims.get("preferred_username") or claims.get("nickname"),
            "email": email,
            "email_verified": email is not None,
            "first_name": claims.get("given_name"),
            "last_name": claims.get("family_name"),
        }

    def extract_email_addresses(self, data) -> list:
        return []  # Accounts are never found or linked by email.
