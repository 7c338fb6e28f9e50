"""Two-factor pages: allauth.mfa's (TOTP, passkeys, the code asked for at sign-in) with the
app's rule that enrolling or removing a factor needs the password or a fresh single sign-on,
and the app's own recovery codes, shown once and stored hashed.
"""

import time
from functools import wraps
from urllib.parse import urlencode

from allauth.account.internal.flows.login import get_authentication_records
from allauth.account.internal.flows.reauthentication import suspend_request
from allauth.mfa.base import views as mfa_base
from allauth.mfa.totp import views as mfa_totp
from allauth.mfa.webauthn import views as mfa_webauthn
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from ..accounts import recovery_codes, two_factor
from ..accounts.audit import security_log
from ..sso import selectors as sso_selectors


def recently_signed_in(request: HttpRequest) -> bool:
    """Whether this session showed the password, or signed in at the provider, within
    ACCOUNT_REAUTHENTICATION_TIMEOUT (a sign-in counts as much as a confirmation)."""
    since = time.time() - settings.ACCOUNT_REAUTHENTICATION_TIMEOUT
    for record in get_authentication_records(request, request.user):
        if record.get("at", 0) < since:
            continue
        if record.get("method") == "socialaccount":
            return True
        if record.get("method") == "password" and settings.CHAT_LOCAL_PASSWORDS:
            return True
    return False


def fresh_sign_in_required(view):
    """Run `view` only right after the password (local accounts) or a fresh sign-in at the
    provider (single sign-on accounts); otherwise ask for one and come back."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if recently_signed_in(request):
            return view(request, *args, **kwargs)
        user = request.user
        if settings.CHAT_LOCAL_PASSWORDS and user.has_usable_password():
            # allauth's password page; a suspended POST is replayed after it.
            return suspend_request(request, reverse("account_reauthenticate"))
        if settings.SSO_ENABLED and sso_selectors.is_linked(user=user):
            query = urlencode({"next": request.get_full_path()})
            return redirect(f"{reverse('sso-reauthenticate')}?{query}")
        raise PermissionDenied("This account cannot confirm who it is.")

    return login_required(wrapped)


@login_required
@never_cache
def recovery_codes_page(request: HttpRequest) -> HttpResponse:
    """How many recovery codes are left, and a button to make new ones."""
    has_factor = bool(two_factor.factor_types(user_id=request.user.pk))
    return render(
        request,
        "mfa/recovery_codes/index.html",
        {
            "has_factor": has_factor,
            "left": recovery_codes.recovery_codes_left(user_id=request.user.pk),
            "count": recovery_codes.COUNT,
        },
    )


@require_POST
@fresh_sign_in_required
@never_cache
def recovery_codes_make(request: HttpRequest) -> HttpResponse:
    """New codes, replacing the old: shown in this response only."""
    if not two_factor.factor_types(user_id=request.user.pk):
        return redirect("mfa_index")
    codes = recovery_codes.recovery_codes_issue(user=request.user)
    security_log(user=request.user, message="Made new recovery codes.")
    response = render(request, "mfa/recovery_codes/generate.html", {"codes": codes})
    response["Cache-Control"] = "no-store"
    return response


urlpatterns = [
    path("", mfa_base.index, name="mfa_index"),
    path("authenticate/", mfa_base.authenticate, name="mfa_authenticate"),
    path("reauthenticate/", mfa_base.reauthenticate, name="mfa_reauthenticate"),
    path(
        "totp/activate/",
        fresh_sign_in_required(mfa_totp.activate_totp),
        name="mfa_activate_totp",
    ),
    path(
        "totp/deactivate/",
        fresh_sign_in_required(mfa_totp.deactivate_totp),
        name="mfa_deactivate_totp",
    ),
    path("recovery-codes/", recovery_codes_page, name="mfa_view_recovery_codes"),
    path("recovery-codes/generate/", recovery_codes_make, name="mfa_generate_recovery_codes"),
    path("webauthn/", mfa_webauthn.list_webauthn, name="mfa_list_webauthn"),
    path(
        "webauthn/add/", fresh_sign_in_required(mfa_webauthn.add_webauthn), name="mfa_add_webauthn"
    ),
    path(
        "webauthn/reauthenticate/",
        mfa_webauthn.reauthenticate_webauthn,
        name="mfa_reauthenticate_webauthn",
    ),
    path(
        "webauthn/keys/<int:pk>/remove/",
        fresh_sign_in_required(mfa_webauthn.remove_webauthn),
        name="mfa_remove_webauthn",
    ),
    path(
        "webauthn/keys/<int:pk>/edit/",
        fresh_sign_in_required(mfa_webauthn.edit_webauthn),
        name="mfa_edit_webauthn",
    ),
]
