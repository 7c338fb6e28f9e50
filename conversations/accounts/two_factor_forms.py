"""allauth.mfa's code forms (settings.MFA_FORMS), under the sign-in limits, taking the
app's recovery codes too, and written to the admin log.

A wrong code is a failed sign-in of the account from the client's address (axes counts
it, as a wrong password); while either is locked even the right code is refused, with the
lockout page. A recovery code is used up as it is accepted.
"""

from allauth.account.internal.flows.login import record_authentication
from allauth.core import context
from allauth.mfa.base import forms as mfa_forms
from django import forms

from . import recovery_codes
from .audit import security_log
from .login_throttle import sign_in_allowed, sign_in_failed


class _Throttled:
    reauthenticating = False

    def clean_code(self) -> str:
        request = context.request
        credentials = {"username": self.user.get_username()}
        if not sign_in_allowed(request=request, credentials=credentials):
            raise forms.ValidationError("Too many failed sign-ins: try again later.")
        code = self.cleaned_data["code"]
        self.recovery_code = False
        if recovery_codes.looks_like_code(code):
            if recovery_codes.recovery_code_use(user=self.user, code=code):
                self.recovery_code = True
                left = recovery_codes.recovery_codes_left(user_id=self.user.pk)
                security_log(
                    user=self.user, message=f"Signed in with a recovery code ({left} left)."
                )
                return code
        else:
            try:
                return super().clean_code()
            except forms.ValidationError:
                pass
        sign_in_failed(request=request, credentials=credentials)
        security_log(user=self.user, message="A wrong second-factor code was entered.")
        raise forms.ValidationError("That code is not right.", code="incorrect_code")

    def save(self) -> None:
        if self.recovery_code:
            extra = {"reauthenticated": True} if self.reauthenticating else {}
            record_authentication(context.request, self.user, "mfa", type="recovery_code", **extra)
        else:
            super().save()


class AuthenticateForm(_Throttled, mfa_forms.AuthenticateForm):
    """The second step of a sign-in: an authenticator code or a recovery code."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["code"].label = "Code from your authenticator app, or a recovery code"
        self.fields["code"].widget.attrs.update(
            {"autocomplete": "one-time-code", "autocapitalize": "none", "spellcheck": "false"}
        )
        self.fields["code"].widget.attrs.pop("placeholder", None)


class ReauthenticateForm(_Throttled, mfa_forms.ReauthenticateForm):
    reauthenticating = True
