"""Deletion's rows: staff's retention rules per group, and the runner's lease."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

# The longest rule anyone may set: a hundred years is "never" by another name.
MAX_RETENTION_DAYS = 36_500


class RetentionRule(models.Model):
    """A group's retention: its members' conversations untouched this many days are
    deleted, sooner than the site's own rule (CHAT_RETENTION_DAYS). A user in several
    groups with rules has the shortest."""

    group = models.OneToOneField(
        "auth.Group", on_delete=models.CASCADE, related_name="retention_rule"
    )
    days = models.PositiveIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(MAX_RETENTION_DAYS)],
        help_text="Conversations untouched (no new message) for this many days are deleted.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "retention rule"

    def __str__(self) -> str:
        return f"{self.group}: {self.days} days"


class RunnerLease(models.Model):
    """Which process runs a scheduled job now (`owner`, until `expires_at`), and when a run
    last finished: one row per job name, claimed with one conditional update, as a turn
    claims its conversation (turns/starts.py)."""

    name = models.CharField(max_length=50, primary_key=True)
    owner = models.CharField(max_length=100, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name}: {self.owner or 'free'}"
