"""Single sign-on pages: starting a sign-in at the provider, its callback, the provider's
back-channel logout, a fresh sign-in asked for by a page, and signing out (at the provider
too, when it offers RP-initiated logout).

The flow itself is allauth's (conversations/sso/oidc.py adds its checks); these views put
the sign-in limits around it and turn a provider that cannot be reached into a page that
says so, not a server error.
"""

import logging
import secrets

import requests
from allauth.socialaccount.models import SocialApp
from allauth.socialaccount.providers.base.constants import AuthProcess
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from allauth.socialaccount.providers.oauth2.views import OAuth2LoginView
from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from ..accounts.login_throttle import sign_in_allowed
from ..sso import backchannel
from ..sso import services as sso_services
from ..sso.adapter import refused, sso_credentials
from ..sso.config import PROVIDER_ID
from ..sso.oidc import ChatCallbackView, ChatOIDCAdapter

logger = logging.getLogger(__name__)

UNREACHABLE = (
    "The sign-in provider cannot be reached just now, so signing in with it is not possible. "
    "Try again in a few minutes; if it goes on, tell this site's administrator."
)
# A fresh sign-in (enrolling or removing a second factor, signing out everywhere) must
# have happened at the provider within this many seconds.
FRESH_SECONDS = 300


def _adapter(request: HttpRequest, provider_id: str) -> ChatOIDCAdapter:
    if not settings.SSO_ENABLED or provider_id != PROVIDER_ID:
        raise Http404("No such sign-in provider.")
    return ChatOIDCAdapter(request, provider_id)


def _guarded(request: HttpRequest, run) -> HttpResponse:
    """Run a step of the flow under the sign-in limits, a provider that is down answered."""
    if not sign_in_allowed(request=request, credentials=sso_credentials(request)):
        return HttpResponse(status=429)  # Replaced by the lockout page (axes' middleware).
    try:
        return run()
    except SocialApp.DoesNotExist:
        raise Http404("No such sign-in provider.") from None
    except (requests.RequestException, OAuth2Error, ValueError) as exc:
        logger.warning("Single sign-on failed at the provider: %s", type(exc).__name__)
        return refused(request, UNREACHABLE, status=502)


@never_cache
@require_POST
def login(request: HttpRequest, provider_id: str) -> HttpResponse:
    """Go to the provider to sign in (process=login) or to link this account (connect)."""
    adapter = _adapter(request, provider_id)
    return _guarded(request, lambda: OAuth2LoginView.adapter_view(adapter)(request))


@never_cache
def callback(request: HttpRequest, provider_id: str) -> HttpResponse:
    """The provider sends the browser back here with a code (or an error) and the state."""
    adapter = _adapter(request, provider_id)
    return _guarded(request, lambda: ChatCallbackView.adapter_view(adapter)(request))


@login_required
@never_cache
def reauthenticate(request: HttpRequest) -> HttpResponse:
    """A fresh sign-in at the provider for the signed-in account, then back to `next`
    (a GET shows the page with its button; the button posts here)."""
    target = request.GET.get("next") or request.POST.get("next") or reverse("settings")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("settings")
    if request.method != "POST":
        context = {"next": target, "sso_name": settings.OIDC_PROVIDER_NAME}
        return render(request, "registration/sso_reauthenticate.html", context)
    adapter = _adapter(request, PROVIDER_ID)

    def start() -> HttpResponse:
        provider = adapter.get_provider()
        return provider.redirect(
            request, AuthProcess.REDIRECT, next_url=target, max_age=FRESH_SECONDS
        )

    return _guarded(request, start)


@csrf_exempt
@require_POST
def backchannel_logout(request: HttpRequest, provider_id: str) -> HttpResponse:
    """The provider's back-channel logout: a signed logout token naming a provider session
    (`sid`) or a user (`sub`); their sessions here end, and their sockets close."""
    adapter = _adapter(request, provider_id)
    token = request.POST.get("logout_token", "")
    try:
        app = adapter.get_provider().app
        ended = backchannel.logout(
            token=token, config=adapter.openid_config, client_id=app.client_id
        )
    except (requests.RequestException, OAuth2Error, ValueError) as exc:
        logger.warning("Refused a back-channel logout: %s", exc)
        response = HttpResponse("invalid logout token", status=400, content_type="text/plain")
    else:
        logger.info("Back-channel logout ended %d session(s)", ended)
        response = HttpResponse(status=200)
    response["Cache-Control"] = "no-store"
    return response


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    """Sign out here (every socket of this session closes), then at the provider when the
    session came from it and it offers RP-initiated logout."""
    signed_in = (
        (request.session.get(sso_services.SESSION_KEY) or {}) if settings.SSO_ENABLED else {}
    )
    logout(request)  # Also forgets its single sign-on row (signals.py).
    back = request.build_absolute_uri(reverse("login"))
    if not signed_in.get("id_token"):
        return redirect("login")
    try:
        adapter = ChatOIDCAdapter(request, PROVIDER_ID)
        end_session = adapter.openid_config.get("end_session_endpoint")
        client_id = adapter.get_provider().app.client_id
    except (requests.RequestException, SocialApp.DoesNotExist, ValueError):
        end_session = None
    if not end_session:
        return redirect("login")
    query = urlencode(
        {
            "id_token_hint": signed_in["id_token"],
            "client_id": client_id,
            "post_logout_redirect_uri": back,
            "state": secrets.token_urlsafe(16),
        }
    )
    return HttpResponseRedirect(f"{end_session}?{query}")
