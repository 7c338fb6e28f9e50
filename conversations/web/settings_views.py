"""The settings page: preferences, password, signing out everywhere, deleting the account.

Each form posts to its own address and, when it is wrong, the whole page comes back with
that form's errors. Anything that cannot be undone asks for the password again, checked
under the sign-in throttle (a locked-out account or address gets the lockout page, 429).
Django's own password-change pages lead here, so no page checks a password unthrottled.
"""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.db.models import ProtectedError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from ..accounts import selectors as account_selectors
from ..accounts import services as account_services
from ..deletion import services as deletion_services
from ..provider import availability, catalog
from ..sharing.selectors import share_rows
from ..sso import selectors as sso_selectors
from ..sso.config import PROVIDER_ID
from .appearance import THEME_COOKIE, remember_theme
from .forms import (
    ConfirmPasswordForm,
    DeleteAccountForm,
    PreferencesForm,
    ThrottledPasswordChangeForm,
)
from .two_factor_views import recently_signed_in


def _page(request: HttpRequest, status: int = 200, **forms) -> HttpResponse:
    user = request.user
    chosen = account_selectors.user_settings(user=user)
    password_form = forms.get("password_form") or ThrottledPasswordChangeForm(request=request)
    # Django's form takes the focus to its first field: halfway down this page.
    password_form.fields["old_password"].widget.attrs.pop("autofocus", None)
    context = {
        "preferences": forms.get("preferences") or PreferencesForm(instance=chosen, user=user),
        "password_form": password_form,
        "sign_out_form": forms.get("sign_out_form") or ConfirmPasswordForm(request=request),
        "delete_form": forms.get("delete_form") or DeleteAccountForm(request=request),
        "models": _model_options(user_id=user.pk),
        "site_model": settings.LLM_DEFAULT_MODEL,
        "has_password": _has_password(user),
        "two_factor_status": account_selectors.two_factor_status(user),
        "sso": settings.SSO_ENABLED,
        "sso_name": settings.OIDC_PROVIDER_NAME,
        "sso_linked": settings.SSO_ENABLED and sso_selectors.is_linked(user=user),
        "sso_url": reverse("openid_connect_login", kwargs={"provider_id": PROVIDER_ID}),
        "share_links": share_rows(user=user),
        "leaderboard": settings.CHAT_LEADERBOARD_PUBLIC,
    }
    return render(request, "settings.html", context, status=status)


def _has_password(user) -> bool:
    """Whether the account confirms things with a password (else with a fresh single
    sign-on: an account made by the provider, or any when local passwords are off)."""
    return settings.CHAT_LOCAL_PASSWORDS and user.has_usable_password()


def _fresh_sign_in_first(request: HttpRequest, section: str) -> HttpResponse | None:
    """For an account without a password: a fresh sign-in at the provider, then back."""
    if recently_signed_in(request):
        return None
    query = urlencode({"next": f"{reverse('settings')}#{section}"})
    return redirect(f"{reverse('sso-reauthenticate')}?{query}")


def _model_options(*, user_id: int) -> list:
    """Models to suggest: the built-in catalog and the site's default, those the user may use."""
    known = {entry.model_id: entry for entry in catalog.BUILT_IN.values()}
    known.setdefault(settings.LLM_DEFAULT_MODEL, catalog.built_in(settings.LLM_DEFAULT_MODEL))
    models = availability.policy()
    return sorted(
        (entry for entry in known.values() if models.allowed(entry.model_id, user_id)),
        key=lambda entry: entry.display_name.lower(),
    )


@login_required
def settings_page(request: HttpRequest) -> HttpResponse:
    """Show every setting; a POST saves the preferences."""
    if request.method != "POST":
        return _page(request)
    chosen = account_selectors.user_settings(user=request.user)
    form = PreferencesForm(request.POST, instance=chosen, user=request.user)
    if not form.is_valid():
        return _page(request, status=400, preferences=form)
    saved = account_services.user_settings_update(user=request.user, **form.cleaned_data)
    messages.success(request, "Settings saved.")
    return remember_theme(redirect("settings"), saved.theme)


@login_required
@require_POST
def change_password(request: HttpRequest) -> HttpResponse:
    """A new password: this browser stays signed in, every other session ends."""
    form = ThrottledPasswordChangeForm(request.POST, request=request)
    if not form.is_valid():
        return _page(request, status=400, password_form=form)
    user = form.save()
    update_session_auth_hash(request, user)
    messages.success(request, "Password changed. Other devices have been signed out.")
    return redirect("settings")


@login_required
@require_POST
def sign_out_everywhere(request: HttpRequest) -> HttpResponse:
    """End every session of the account, this one included."""
    if _has_password(request.user):
        form = ConfirmPasswordForm(request.POST, request=request)
        if not form.is_valid():
            return _page(request, status=400, sign_out_form=form)
        password = form.cleaned_data["password"]
    else:
        if (ask := _fresh_sign_in_first(request, "settings-sessions")) is not None:
            return ask
        password = None
    account_services.user_sign_out_everywhere(user=request.user, password=password)
    logout(request)
    messages.success(request, "You have been signed out everywhere, here too.")
    return redirect("login")


@login_required
@require_POST
def delete_account(request: HttpRequest) -> HttpResponse:
    """Delete the account and all of its data, after the password (or a fresh single
    sign-on) and a tick."""
    if _has_password(request.user):
        form = DeleteAccountForm(request.POST, request=request)
    else:
        if (ask := _fresh_sign_in_first(request, "settings-delete")) is not None:
            return ask
        form = DeleteAccountForm(request.POST, request=request)
        del form.fields["password"]
    if not form.is_valid():
        return _page(request, status=400, delete_form=form)
    user = request.user
    try:
        deletion_services.account_delete(user=user)
    except ProtectedError:
        form.add_error(
            None,
            "This account wrote review work (scores, notes or corrections) that must stay: "
            "ask an administrator to delete it.",
        )
        return _page(request, status=400, delete_form=form)
    logout(request)
    messages.success(request, "Your account and all of its data have been deleted.")
    response = redirect("login")
    response.delete_cookie(THEME_COOKIE)
    return response


def password_change_elsewhere(request: HttpRequest) -> HttpResponse:
    """Django's own password-change pages (/accounts/…, /admin/…) check the old password
    without the sign-in throttle: send their visitors to this page's form instead."""
    return redirect(f"{reverse('settings')}#settings-password")
