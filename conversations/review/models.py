"""Review data: users' feedback and reports, the queue, annotations, the audit log, opt-outs.

Everything tied to a conversation or a reply cascades with it, so deleting a conversation
removes its content, feedback and annotations. The audit log alone refers to them by
plain integer ids and holds no text, so its entries outlive them as tombstones.

About 420 lines, on purpose: the review app's thirteen models in the one module Django reads
them from; they refer to each other, and most are a dozen lines of fields.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from ..models import Conversation, Message

COMMENT_MAX_CHARS = 2000
NOTE_MAX_CHARS = 10_000
CORRECTION_MAX_CHARS = 100_000
MAX_REVIEWS_REQUIRED = 10

# What a user may tick beside a rating or a report (value: label).
FEEDBACK_CATEGORIES = {
    "up": {
        "helpful": "Helpful",
        "accurate": "Accurate",
        "well_written": "Well written",
        "other": "Other",
    },
    "down": {
        "wrong": "Wrong",
        "unhelpful": "Unhelpful",
        "unsafe": "Unsafe",
        "too_long": "Too long",
        "too_short": "Too short",
        "ignored_instructions": "Didn't follow instructions",
        "other": "Other",
    },
}
REPORT_CATEGORIES = {
    "unsafe": "Unsafe or harmful",
    "wrong": "Wrong or misleading",
    "broken": "Something broke",
    "privacy": "Privacy concern",
    "other": "Other",
}


class Feedback(models.Model):
    """A user's thumbs up or down on an assistant reply of their own conversation."""

    class Rating(models.TextChoices):
        UP = "up", "Thumbs up"
        DOWN = "down", "Thumbs down"

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="feedback"
    )
    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="feedback")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    rating = models.CharField(max_length=8, choices=Rating.choices)
    categories = models.JSONField(default=list, blank=True)
    comment = models.TextField(blank=True, max_length=COMMENT_MAX_CHARS)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "feedback"
        indexes = [models.Index(fields=["created_at"], name="review_feedback_created")]

    def __str__(self) -> str:
        return f"{self.get_rating_display()} on reply {self.message_id}"


class Report(models.Model):
    """A user's report of one of their own conversations."""

    conversation = models.OneToOneField(
        Conversation, on_delete=models.CASCADE, related_name="report"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    categories = models.JSONField(default=list, blank=True)
    comment = models.TextField(blank=True, max_length=COMMENT_MAX_CHARS)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Report on conversation {self.conversation_id}"


class QueueItem(models.Model):
    """A conversation, or one reply in it, waiting for a reviewer."""

    class Reason(models.TextChoices):
        THUMBS_DOWN = "thumbs_down", "Thumbs down"
        REPORT = "report", "Reported"
        ERROR = "error", "Reply failed"
        TOOL_ERROR = "tool_error", "Tool error"
        MANUAL = "manual", "Added by staff"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        IN_REVIEW = "in_review", "In review"
        RESOLVED = "resolved", "Resolved"
        DISMISSED = "dismissed", "Dismissed"

    UNRESOLVED = (Status.OPEN, Status.IN_REVIEW)

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="queue_items"
    )
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.CASCADE, related_name="queue_items"
    )
    reason = models.CharField(max_length=16, choices=Reason.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    # The reply's model (or the conversation's) when queued: the queue filters on it.
    model = models.CharField(max_length=200, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="review_items",
    )
    resolution_note = models.TextField(blank=True, max_length=NOTE_MAX_CHARS)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Staff who added it by hand; empty for automatic items.",
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "review queue item"
        indexes = [
            models.Index(fields=["status", "-created_at"], name="review_queue_status"),
            models.Index(fields=["conversation", "reason"], name="review_queue_conv"),
        ]
        permissions = [
            ("review_conversations", "Can read the transcripts of queued conversations"),
            ("open_any_conversation", "Can open any conversation, queued or not (audited)"),
            ("view_dashboard", "Can see the review dashboard"),
            ("export_datasets", "Can export datasets"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_reason_display()} ({self.get_status_display()})"


class ScoreConfig(models.Model):
    """Something reviewers score replies on: a number in a range, a category or yes/no."""

    class Kind(models.TextChoices):
        NUMERIC = "numeric", "Number in a range"
        CATEGORICAL = "categorical", "One of some categories"
        BOOLEAN = "boolean", "Yes or no"

    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=300, blank=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    min_value = models.FloatField(null=True, blank=True, help_text="Numeric: the lowest score.")
    max_value = models.FloatField(null=True, blank=True, help_text="Numeric: the highest score.")
    categories = models.JSONField(
        default=list, blank=True, help_text='Categorical: the choices, e.g. ["terse", "verbose"].'
    )
    marks_good_example = models.BooleanField(
        default=False,
        help_text="Yes/no only: a reply scored yes goes into the fine-tuning dataset.",
    )
    active = models.BooleanField(default=True, help_text="Offered in the transcript view.")
    # Several reviewers score the same reply so their agreement can be measured; the queue
    # shows each item's progress towards this many (selectors/reviews.py).
    reviews_required = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_REVIEWS_REQUIRED)],
        help_text=f"Reviewers who should score each queued reply (1 to {MAX_REVIEWS_REQUIRED}).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(reviews_required__gte=1, reviews_required__lte=MAX_REVIEWS_REQUIRED),
                name="review_scoreconfig_reviews_required_range",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.kind == self.Kind.NUMERIC:
            if self.min_value is None or self.max_value is None:
                raise ValidationError("A numeric score needs a lowest and a highest value.")
            if self.min_value >= self.max_value:
                raise ValidationError("The lowest value must be below the highest.")
        if self.kind == self.Kind.CATEGORICAL:
            names = self.categories
            if (
                not isinstance(names, list)
                or not 2 <= len(names) <= 20
                or not all(isinstance(n, str) and 0 < len(n) <= 50 for n in names)
                or len(set(names)) != len(names)
            ):
                raise ValidationError("Give 2 to 20 distinct category names of 1 to 50 characters.")
        if self.marks_good_example and self.kind != self.Kind.BOOLEAN:
            raise ValidationError("Only a yes/no score can mark good examples.")


class Score(models.Model):
    """One reviewer's score of one reply against one config; scoring again replaces it."""

    config = models.ForeignKey(ScoreConfig, on_delete=models.PROTECT, related_name="scores")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="scores")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    value = models.FloatField(null=True, blank=True, help_text="Numeric; yes/no as 1 or 0.")
    category = models.CharField(max_length=50, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["config", "message", "author"], name="review_score_once_per_author"
            )
        ]

    def __str__(self) -> str:
        return f"{self.config} = {self.display}"

    @property
    def display(self) -> str:
        """The value as a reviewer reads it."""
        if self.config.kind == ScoreConfig.Kind.CATEGORICAL:
            return self.category
        if self.config.kind == ScoreConfig.Kind.BOOLEAN:
            return "yes" if self.value else "no"
        return f"{self.value:g}"


class ReviewNote(models.Model):
    """A reviewer's internal note on a conversation or one reply; users never see it."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.CASCADE, related_name="review_notes"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(max_length=NOTE_MAX_CHARS)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Note {self.pk} by {self.author_id}"


class Correction(models.Model):
    """What a reply should have said, written by a reviewer; the reply itself is untouched.

    Corrections are kept, never overwritten: the newest one for a reply is its correction.
    """

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="corrections")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    content = models.TextField(max_length=CORRECTION_MAX_CHARS)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Correction {self.pk} of reply {self.message_id}"


class AuditEntry(models.Model):
    """Who saw or did what, when, to which conversation or reply. Never any message text.

    Ids are plain integers, not foreign keys, so an entry outlives what it points at.
    """

    class Action(models.TextChoices):
        VIEW_TRANSCRIPT = "view_transcript", "Opened a transcript"
        VIEW_MESSAGE = "view_message", "Opened a raw message"
        VIEW_FILE = "view_file", "Opened a file"
        SEARCH = "search", "Searched message text"
        SCORE = "score", "Scored a reply"
        SCORE_CLEAR = "score_clear", "Cleared a score"
        NOTE = "note", "Wrote a note"
        CORRECTION = "correction", "Wrote a correction"
        QUEUE_ADD = "queue_add", "Added to the queue"
        QUEUE_ASSIGN = "queue_assign", "Assigned a queue item"
        QUEUE_STATUS = "queue_status", "Changed a queue item's status"
        EXPORT = "export", "Exported a dataset"
        DELETE = "delete", "Deleted a conversation"
        # By the conversation's owner: a share link made or revoked (sharing/).
        SHARE_CREATE = "share_create", "Made a share link"
        SHARE_REVOKE = "share_revoke", "Revoked a share link"
        # By the runner, no actor: one entry per batch, its counts in `detail`.
        RETENTION = "retention", "Deleted conversations by a retention rule"

    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_username = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=32, choices=Action.choices)
    conversation_id = models.BigIntegerField(null=True, blank=True)
    message_id = models.BigIntegerField(null=True, blank=True)
    owner_id = models.BigIntegerField(
        null=True, blank=True, help_text="The user whose conversation it is."
    )
    queue_item_id = models.BigIntegerField(null=True, blank=True)
    # Ids, counts, statuses and scores only: never message text, notes or search words.
    detail = models.JSONField(default=dict, blank=True)
    path = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "audit log entry"
        verbose_name_plural = "audit log"
        indexes = [
            models.Index(fields=["-created_at"], name="review_audit_created"),
            models.Index(fields=["conversation_id"], name="review_audit_conversation"),
            models.Index(fields=["actor_id", "-created_at"], name="review_audit_actor"),
        ]

    def __str__(self) -> str:
        return f"{self.actor_username} {self.action} {self.created_at:%Y-%m-%d %H:%M}"


class DatasetOptOut(models.Model):
    """A user who asked that none of their conversations go into any dataset."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="dataset_opt_out"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "dataset opt-out"

    def __str__(self) -> str:
        return f"User {self.user_id} opted out"


UNRESOLVED_Q = Q(status__in=QueueItem.UNRESOLVED)


# Daily rollups for the dashboard, counted as messages are saved (see stats.py): reading
# a month of them costs the same at a million messages as at a thousand.
class DailyStat(models.Model):
    """Per day, reply model and persona (0: none): replies, errors, tokens, and the other
    messages turns add (tool results, notes). Users' messages are in DailyActiveUser."""

    day = models.DateField()
    model = models.CharField(max_length=200, blank=True)
    persona_id = models.BigIntegerField(default=0, db_default=0)
    messages = models.PositiveIntegerField(default=0, db_default=0)
    replies = models.PositiveIntegerField(default=0, db_default=0)
    errors = models.PositiveIntegerField(default=0, db_default=0)
    prompt_tokens = models.PositiveBigIntegerField(default=0, db_default=0)
    completion_tokens = models.PositiveBigIntegerField(default=0, db_default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "model", "persona_id"], name="review_dailystat_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.model or '-'} persona {self.persona_id}"


class DailyActiveUser(models.Model):
    """A user who sent messages that day, and how many (ids only)."""

    day = models.DateField()
    user_id = models.BigIntegerField()
    messages = models.PositiveIntegerField(default=0, db_default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "user_id"], name="review_dailyuser_key")
        ]

    def __str__(self) -> str:
        return f"{self.day} user {self.user_id}"


class DailyLatency(models.Model):
    """How many replies that day had their first token within each time bucket."""

    day = models.DateField()
    bucket_ms = models.PositiveIntegerField(help_text="The bucket's lower bound.")
    count = models.PositiveIntegerField(default=0, db_default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "bucket_ms"], name="review_dailylatency_key")
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.bucket_ms} ms: {self.count}"


class ReviewLock(models.Model):
    """A queue item held by the reviewer who has its page open, until `expires_at`.

    The open page renews it; an expired one is anybody's to take over. A reviewer holds
    one at a time: opening another item releases the last.
    """

    item = models.OneToOneField(
        QueueItem, on_delete=models.CASCADE, primary_key=True, related_name="review_lock"
    )
    holder = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="review_locks"
    )
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Item {self.item_id} held by {self.holder_id} until {self.expires_at:%H:%M}"
