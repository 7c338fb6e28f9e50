"""The pages' side of two-factor sign-in (the socket's is in accounts/selectors.py).

- A session whose user has a second factor but which never showed it (signed in before
  the factor was enrolled on another device) is signed out, and asked to sign in again.
- With CHAT_REQUIRE_2FA_FOR_STAFF, staff without a factor reach only the enrolment pages
  (and signing out), not the admin or anything else, until they enrol one.
"""

from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect

from ..accounts import two_factor

# What staff who must enrol may still open: enrolment, confirming who they are, signing out.
ENROLMENT_VIEWS = frozenset(
    {
        "mfa_index",
        "mfa_activate_totp",
        "mfa_list_webauthn",
        "mfa_add_webauthn",
        "mfa_reauthenticate",
        "mfa_reauthenticate_webauthn",
        "mfa_view_recovery_codes",
        "mfa_generate_recovery_codes",
        "account_reauthenticate",
        "sso-reauthenticate",
        "openid_connect_login",
        "openid_connect_callback",
        "logout",
        "highlight-css",
    }
)


class TwoFactorGate:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        user = request.user
        if not user.is_authenticated:
            return None
        state = two_factor.session_state(request.session, user=user)
        if state == two_factor.OWED:
            logout(request)
            messages.info(request, "Sign in again: your account now asks for a second factor.")
            return redirect("login")
        if state == two_factor.ENROL:
            match = request.resolver_match
            if match is None or match.url_name not in ENROLMENT_VIEWS:
                if request.path.endswith(".json"):
                    return JsonResponse({"error": "two_factor_required"}, status=403)
                messages.info(request, "Staff accounts must set up two-factor sign-in first.")
                return redirect("mfa_index")
        return None
