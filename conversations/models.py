"""Personas, conversations and the message tree."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Persona(models.Model):
    """A reusable system prompt with model settings; owner null means shared.

    `version` goes up whenever what a persona sends changes; replies record the
    version (and the whole request) they were made with, so edits never rewrite history.
    """

    name = models.CharField(max_length=100)
    description = models.CharField(max_length=300, blank=True)
    system_prompt = models.TextField(blank=True)
    model = models.CharField(max_length=200, blank=True, help_text="Blank: the default model.")
    temperature = models.FloatField(null=True, blank=True)
    top_p = models.FloatField(null=True, blank=True)
    max_tokens = models.PositiveIntegerField(null=True, blank=True)
    tools = models.JSONField(default=list, blank=True, help_text="Names of the tools offered.")
    tool_choice = models.CharField(
        max_length=100,
        default="auto",
        help_text='"auto", "none", "required", or the name of one tool the model must call.',
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="personas",
        help_text="Empty: shared with every user, managed by staff.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Conversation(models.Model):
    """One chat; its visible history is the branch ending at `current_leaf`."""

    class TitleSource(models.TextChoices):
        FIRST_MESSAGE = "first_message"
        GENERATED = "generated"
        USER = "user"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conversations"
    )
    title = models.CharField(max_length=200, blank=True)
    title_source = models.CharField(
        max_length=16, choices=TitleSource.choices, default=TitleSource.FIRST_MESSAGE
    )
    pinned = models.BooleanField(default=False)
    archived = models.BooleanField(default=False)
    persona = models.ForeignKey(Persona, null=True, blank=True, on_delete=models.SET_NULL)
    # The user's own choices for this conversation, each over its persona's: blank (None)
    # follows the persona, so a persona's model or prompt edited later still applies.
    model = models.CharField(
        max_length=200, blank=True, help_text="Blank: the persona's model, else the default."
    )
    temperature = models.FloatField(null=True, blank=True, help_text="Blank: the persona's.")
    top_p = models.FloatField(null=True, blank=True, help_text="Blank: the persona's.")
    max_tokens = models.PositiveIntegerField(
        null=True, blank=True, help_text="Blank: the persona's."
    )
    system_prompt = models.TextField(blank=True, help_text="Blank: the persona's.")
    current_leaf = models.ForeignKey(
        "Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The lease on the turn running in this conversation: which server process holds it,
    # and until when. One turn per conversation, across processes; a process renews its
    # leases while its turns run, and any process sweeps up those left to expire.
    turn_owner = models.CharField(max_length=100, blank=True, editable=False)
    turn_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Imported conversations only: a hash of their messages, so importing the same file
    # again can ask before making copies (portability.conversation_fingerprint).
    import_fingerprint = models.CharField(max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]
        indexes = [
            models.Index(fields=["owner", "-updated_at"], name="conv_owner_recent"),
            models.Index(
                fields=["owner", "import_fingerprint"],
                condition=~Q(import_fingerprint=""),
                name="conv_import_fingerprint",
            ),
            # The sweep looks only at conversations with a lease.
            models.Index(
                fields=["turn_expires_at"], condition=~Q(turn_owner=""), name="conv_turn_leased"
            ),
            # A turn's start counts the user's running turns (CHAT_MAX_RUNNING_TURNS).
            models.Index(fields=["owner"], condition=~Q(turn_owner=""), name="conv_owner_leased"),
        ]

    def __str__(self) -> str:
        return self.title or f"Conversation {self.pk}"


class Message(models.Model):
    """A node in a conversation's message tree."""

    class Role(models.TextChoices):
        SYSTEM = "system"
        USER = "user"
        ASSISTANT = "assistant"
        TOOL = "tool"

    class Status(models.TextChoices):
        PENDING = "pending"
        STREAMING = "streaming"
        COMPLETE = "complete"
        STOPPED = "stopped"
        ERROR = "error"
        INTERRUPTED = "interrupted"

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    role = models.CharField(max_length=16, choices=Role.choices)
    content = models.TextField(blank=True)
    reasoning = models.TextField(blank=True)
    # NULL, not "", when absent: the per-conversation unique constraint skips NULLs.
    client_id = models.CharField(max_length=100, null=True, blank=True)  # noqa: DJ001
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.COMPLETE)
    finish_reason = models.CharField(max_length=32, blank=True)
    error = models.TextField(blank=True, help_text="What the user was told.")
    error_detail = models.TextField(blank=True, help_text="The provider's own words, for staff.")
    model = models.CharField(max_length=200, blank=True)
    prompt_tokens = models.PositiveIntegerField(null=True, blank=True)
    completion_tokens = models.PositiveIntegerField(null=True, blank=True)
    tool_calls = models.JSONField(
        null=True, blank=True, help_text="Assistant: the calls it made, as [{id, name, arguments}]."
    )
    tool_call_id = models.CharField(
        max_length=100, blank=True, help_text="Tool: the call answered."
    )
    tool_name = models.CharField(max_length=100, blank=True)
    request = models.JSONField(
        null=True, blank=True, help_text="Assistant: exactly what its request was made of."
    )
    first_token_ms = models.PositiveIntegerField(
        null=True, blank=True, help_text="Time from request to first token."
    )
    duration_ms = models.PositiveIntegerField(null=True, blank=True, help_text="Total time.")
    reasoning_ms = models.PositiveIntegerField(
        null=True, blank=True, help_text="Time from the first reasoning to the first answer token."
    )
    usage_estimated = models.BooleanField(
        default=False, help_text="The provider reported no usage: these counts are estimates."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # When this message was last on the active branch: switching back to a version
    # returns to the replies that were showing under it, not just the newest ones.
    selected_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "client_id"],
                condition=Q(client_id__isnull=False),
                name="message_client_id_unique",
            )
        ]
        indexes = [
            models.Index(fields=["conversation", "created_at"], name="msg_conv_created"),
            # The sweep of abandoned turns looks only for unfinished replies.
            models.Index(
                fields=["status"],
                condition=Q(status__in=["pending", "streaming"]),
                name="msg_unfinished",
            ),
            # A resent first message is found by its client_id.
            models.Index(
                fields=["client_id"], condition=Q(client_id__isnull=False), name="msg_client_id"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.role}: {self.content[:60]}"

    @property
    def usage(self) -> dict | None:
        """Token counts as the protocol sends them, or None when unknown."""
        if self.prompt_tokens is None and self.completion_tokens is None:
            return None
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "estimated": self.usage_estimated,
        }


class ModelInfo(models.Model):
    """What the app knows of a model: from the built-in catalog, the provider, or staff."""

    model_id = models.CharField(max_length=200, unique=True)
    display_name = models.CharField(max_length=200, blank=True)
    context_window = models.PositiveIntegerField(default=32768)
    supports_tools = models.BooleanField(default=False)
    enabled = models.BooleanField(default=True, help_text="Shown in the model picker.")
    available = models.BooleanField(
        default=True, help_text="Listed by the provider at the last sync_models."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["display_name", "model_id"]
        verbose_name = "model"

    def __str__(self) -> str:
        return self.display_name or self.model_id


class UserSettings(models.Model):
    """One user's preferences: the look of every page, what new chats start with, custom
    instructions added to every system prompt, and how the composer sends.

    A user without a row has the defaults; the row is made on the first save.
    """

    class Theme(models.TextChoices):
        SYSTEM = "system", "Same as the device"
        LIGHT = "light", "Light"
        DARK = "dark", "Dark"

    MAX_INSTRUCTIONS = 4000

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
    """A user's turn-rate state, locked while a turn starts (see turn_limits.py).

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
