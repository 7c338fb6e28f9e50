"""Accounts: each user's settings, the one-time setup token of the first account, and
the single-use invites staff make."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from ..personas.models import Persona


class UserSettings(models.Model):
    """One user's preferences: the look of every page, what new chats start with, custom
    instructions added to every system prompt, how the composer sends, and how long their
    conversations are kept.

    A user without a row has the defaults; the row is made on the first save.
    """

    class Theme(models.TextChoices):
        SYSTEM = "system", "Same as the device"
        LIGHT = "light", "Light"
        DARK = "dark", "Dark"

    MAX_INSTRUCTIONS = 4000
    # Periods a user may choose for their own conversations (deletion/retention.py): a few
    # fixed ones, so the retention query has a bounded number of terms.
    RETENTION_CHOICES = (1, 7, 30, 90, 365)

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="chat_settings",
    )
    theme = models.CharField(max_length=8, choices=Theme.choices, default=Theme.SYSTEM)
    default_persona = models.ForeignKey(
        Persona,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="New chats start with it.",
    )
    default_model = models.CharField(
        max_length=200, blank=True, help_text="New chats start with it; blank: the site's default."
    )
    custom_instructions = models.TextField(
        blank=True,
        max_length=MAX_INSTRUCTIONS,
        help_text="Added to the system prompt of every conversation.",
    )
    enter_to_send = models.BooleanField(
        default=True, help_text="Off: Enter adds a line and Ctrl+Enter (⌘+Enter) sends."
    )
    retention_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        choices=[(days, f"{days} days" if days > 1 else "1 day") for days in RETENTION_CHOICES],
        help_text="Delete my conversations untouched this long; blank: the site's rule.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "user settings"
        verbose_name_plural = "user settings"

    def __str__(self) -> str:
        return f"Settings of user {self.user_id}"


def invite_expiry():
    """Invites last a week unless staff choose otherwise."""
    return timezone.now() + timezone.timedelta(days=7)


class SetupToken(models.Model):
    """The one-time token that creates the first (administrator) account; only its hash."""

    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"setup token, expires {self.expires_at:%Y-%m-%d %H:%M}"


class Invite(models.Model):
    """A single-use, expiring sign-up code made by staff; only its hash is kept."""

    code_hash = models.CharField(max_length=64, unique=True, editable=False)
    note = models.CharField(max_length=200, blank=True, help_text="Who it is for.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(default=invite_expiry)
    used_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.note or f"invite {self.pk}"

    @property
    def state(self) -> str:
        if self.used_at:
            return "used"
        return "expired" if self.expires_at <= timezone.now() else "open"


class SignIn(models.Model):
    """A session that signs a user in: whose it is, since when, from what browser.

    Django's session rows say whose they are only once decoded one by one; this row lets
    staff list a user's open sessions and end them. It goes with its session (a logout,
    an expiry cleared by `clearsessions`, a session ended here); accounts/sessions.py
    keeps it when a session changes its key.
    """

    MAX_USER_AGENT = 300

    session = models.OneToOneField(
        "sessions.Session", primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sign_ins"
    )
    signed_in_at = models.DateTimeField(default=timezone.now)
    user_agent = models.CharField(max_length=MAX_USER_AGENT, blank=True)

    class Meta:
        ordering = ["-signed_in_at"]
        verbose_name = "open session"

    def __str__(self) -> str:
        return f"Session of user {self.user_id} since {self.signed_in_at:%Y-%m-%d %H:%M}"


class RecoveryCode(models.Model):
    """One single-use code that stands in for a second factor that is not at hand. Only its
    SHA-256 is kept: the code is 80 random bits, so it needs no slow, salted hash."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recovery_codes"
    )
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "code_hash"], name="recovery_code_unique")
        ]

    def __str__(self) -> str:
        return f"Recovery code of user {self.user_id}"
