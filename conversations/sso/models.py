"""The sessions single sign-on made: what the provider's back-channel logout ends."""

from django.conf import settings
from django.db import models


class SsoSession(models.Model):
    """A Django session signed in by the provider, with the provider's session id (`sid`),
    so that the provider's logout of that session, or of the user, ends it here too."""

    session_key = models.CharField(max_length=40, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sso_sessions"
    )
    issuer = models.CharField(max_length=255)
    sid = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    class Meta:
        verbose_name = "single sign-on session"
        indexes = [
            models.Index(fields=["issuer", "sid"], name="sso_session_sid"),
            models.Index(fields=["user", "expires_at"], name="sso_session_user"),
        ]

    def __str__(self) -> str:
        return f"Single sign-on session of user {self.user_id}"
