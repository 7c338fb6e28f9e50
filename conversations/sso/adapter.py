"""How allauth's flows meet this app's rules (settings.ACCOUNT_ADAPTER, SOCIALACCOUNT_ADAPTER).

- A first single sign-on creates the account, found afterwards by the provider's `iss`
  and `sub` only (oidc.account_uid). A local account of the same name or address is never
  taken over: the new one gets another username. A local account is linked to the
  provider only from Settings, by its owner, signed in with its password within the last
  few minutes (SOCIALACCOUNT_REAUTHENTICATION_REQUIRED).
- The very first account of a site becomes its administrator under the same rule as the
  sign-up page: from this machine on a locally served install, else with the setup token.
- Mapped groups and staff status follow the groups claim on every sign-in; no claim makes
  a superuser.
- A failed callback (wrong state, nonce, token) counts as a failed sign-in from the
  client's address, under the same limits as passwords.
"""

import functools

import requests
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.internal.flows.login import record_authentication
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.providers.base.constants import AuthError, AuthProcess
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.shortcuts import render
from django.urls import reverse

from ..accounts import signup as signup_rules
from ..accounts.login_throttle import client_ip
from ..accounts.services import setup_token_consume
from . import selectors as sso_selectors
from . import services as sso_services
from .oidc import claims_of

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
# A response from the provider (discovery, keys, token, userinfo) is read up to this size.
MAX_PROVIDER_RESPONSE = 1024 * 1024
# allauth's notices that say nothing the page does not (signed in, signed out).
QUIET_MESSAGES = ("account/messages/logged_in.txt", "account/messages/logged_out.txt")


def sso_credentials(request) -> dict:
    """Whom a failed single sign-on counts against, for the sign-in limits: the client's
    address (as the address itself, and as a name no account can have, per address, so
    that one address's failures never lock anyone else out)."""
    return {"username": f" single sign-on from {client_ip(request) or 'unknown'}"}


def refused(request, message: str, status: int = 403):
    return render(request, "registration/sso_refused.html", {"message": message}, status=status)


class AccountAdapter(DefaultAccountAdapter):
    """Accounts: sign-up is the app's own page; sessions made by the provider are recorded."""

    def is_open_for_signup(self, request) -> bool:
        return False  # allauth's local sign-up is not used (conversations/web/views.signup).

    def login(self, request, user) -> None:
        if not hasattr(user, "backend"):
            user.backend = MODEL_BACKEND  # axes' backend authenticates but keeps no one.
        super().login(request, user)

    def post_login(self, request, user, **kwargs):
        sociallogin = (kwargs.get("signal_kwargs") or {}).get("sociallogin")
        if sociallogin is not None:
            state = sociallogin.state or {}
            sso_services.session_begin(
                request=request,
                user=user,
                issuer=str(sociallogin.account.extra_data["id_token"]["iss"]),
                sid=str(state.get("sid") or ""),
                id_token=str(state.get("id_token_hint") or ""),
            )
        return super().post_login(request, user, **kwargs)

    def add_message(self, request, level, message_template=None, *args, **kwargs) -> None:
        if message_template not in QUIET_MESSAGES:
            super().add_message(request, level, message_template, *args, **kwargs)

    def get_reauthentication_methods(self, user) -> list[dict]:
        methods = super().get_reauthentication_methods(user)
        if not settings.CHAT_LOCAL_PASSWORDS:
            methods = [m for m in methods if m["id"] != "reauthenticate"]
        if user.is_authenticated and sso_selectors.is_linked(user=user):
            methods.append(
                {
                    "id": "sso_reauthenticate",
                    "description": f"Sign in again with {settings.OIDC_PROVIDER_NAME}",
                    "url": reverse("sso-reauthenticate"),
                }
            )
        return methods


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """Single sign-on: who an account is, what it may do, and what a failure costs."""

    def is_open_for_signup(self, request, sociallogin) -> bool:
        # The provider decides who may sign in (CHAT_SIGNUP is the local sign-up page's).
        return True

    def is_auto_signup_allowed(self, request, sociallogin) -> bool:
        return True

    def get_requests_session(self):
        session = requests.Session()
        session.request = functools.partial(
            session.request, timeout=settings.SOCIALACCOUNT_REQUESTS_TIMEOUT, stream=True
        )
        session.hooks["response"].append(_read_bounded)
        return session

    def get_connect_redirect_url(self, request, socialaccount) -> str:
        return reverse("settings") + "#settings-sso"

    def pre_social_login(self, request, sociallogin) -> None:
        process = (sociallogin.state or {}).get("process")
        if process == AuthProcess.REDIRECT:
            # A fresh sign-in asked for by a page that needs one (two_factor_views):
            # it must be the signed-in user's own link, and it signs no one in.
            if not (
                request.user.is_authenticated
                and sociallogin.is_existing
                and sociallogin.user.pk == request.user.pk
            ):
                raise ImmediateHttpResponse(
                    refused(request, "That is not the account signed in here.")
                )
            record_authentication(
                request,
                request.user,
                "socialaccount",
                reauthenticated=True,
                provider=sociallogin.account.provider,
                uid=sociallogin.account.uid,
            )
        elif sociallogin.is_existing and process == AuthProcess.LOGIN:
            sso_services.groups_apply(
                user=sociallogin.user, claims=claims_of(sociallogin.account.extra_data)
            )

    def save_user(self, request, sociallogin, form=None):
        User = get_user_model()
        with transaction.atomic():
            first = not User.objects.exists()
            if first:
                token = ((sociallogin.state or {}).get("data") or {}).get("setup_token", "")
                if not (signup_rules.trusted_local(request) or setup_token_consume(token)):
                    raise ImmediateHttpResponse(
                        refused(
                            request,
                            "This site has no administrator yet: the first account needs the "
                            "one-time setup token the server printed when it started.",
                        )
                    )
            user = super().save_user(request, sociallogin, form)
            if first:
                user.is_staff = user.is_superuser = True
                user.save(update_fields=["is_staff", "is_superuser"])
            sso_services.groups_apply(user=user, claims=claims_of(sociallogin.account.extra_data))
        return user

    def on_authentication_error(
        self, request, provider, error=None, exception=None, extra_context=None
    ) -> None:
        if error != AuthError.CANCELLED:  # Cancelling at the provider is no failure.
            user_login_failed.send(
                sender=type(self), credentials=sso_credentials(request), request=request
            )
        super().on_authentication_error(request, provider, error, exception, extra_context)


def _read_bounded(response, *args, **kwargs):
    """Read a provider's response whole, refusing one past MAX_PROVIDER_RESPONSE."""
    body = response.raw.read(MAX_PROVIDER_RESPONSE + 1, decode_content=True)
    response.close()
    if len(body) > MAX_PROVIDER_RESPONSE:
        raise requests.RequestException("The provider's response is too large.")
    response._content = body
    response._content_consumed = True
    return response
