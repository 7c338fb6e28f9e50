"""Per-user limits kept in rows: staff's daily token quotas, each user's turn-rate state,
and the tokens their replies used each day."""

from django.conf import settings
from django.db import models
from django.db.models import Q


class TokenQuota(models.Model):
    """A daily token quota staff set for one user or one group (CHAT_DAILY_TOKENS otherwise).

    A user's own quota wins; without one, the most generous of their groups' quotas applies.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="token_quota",
    )
    group = models.OneToOneField(
        "auth.Group",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="token_quota",
    )
    daily_tokens = models.PositiveBigIntegerField(
        null=True,
        blank=True,
        help_text="Prompt and completion tokens per day (UTC). Empty: no limit.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False, group__isnull=True)
                | Q(user__isnull=True, group__isnull=False),
                name="token_quota_user_or_group",
            )
        ]

    def __str__(self) -> str:
        who = self.user or self.group
        limit = "no limit" if self.daily_tokens is None else f"{self.daily_tokens:,} tokens/day"
        return f"{who}: {limit}"


class TurnAllowance(models.Model):
    """A user's turn-rate state, locked while a turn starts (see limits/turn_limits.py).

    `turns_tat` is the rate limiter's "theoretical arrival time" (GCRA): starting a turn
    pushes it one interval on, and a start is refused while it lies more than a minute's
    burst ahead of now.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    turns_tat = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Turn allowance of user {self.user_id}"


class DailyTokens(models.Model):
    """Tokens a user's replies used on one day (UTC): prompt plus completion."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="daily_tokens"
    )
    day = models.DateField()
    tokens = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["-day", "-tokens"]
        verbose_name = "token usage"
        verbose_name_plural = "token usage"
        constraints = [
            models.UniqueConstraint(fields=["user", "day"], name="daily_tokens_user_day"),
        ]
        indexes = [models.Index(fields=["day"], name="daily_tokens_day")]  # Pruning old days.

    def __str__(self) -> str:
        return f"{self.user} on {self.day}: {self.tokens:,}"
