"""Security events of an account, in Django's admin log (the user's History in the admin):
second factors added, removed and used, failed second-factor codes, recovery codes made
and used, and links to the single sign-on provider. Never a code or a secret."""

from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import AbstractBaseUser


def security_log(*, user: AbstractBaseUser, message: str) -> None:
    """One admin log entry on the user's account, made by the user."""
    LogEntry.objects.log_actions(
        user_id=user.pk,
        queryset=[user],
        action_flag=CHANGE,
        change_message=message[:500],
        single_object=True,
    )
