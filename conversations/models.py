"""Conversations and the message tree.

The other models of this app live with their domains (accounts, personas, catalog, limits)
and are imported at the end, where Django finds every model of the app.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .personas.models import Persona


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
    # The project it belongs to (projects/): its instructions and defaults; none is the
    # sidebar's date groups.
    project = models.ForeignKey(
        "conversations.Project",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="conversations",
    )
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
    # Some message here carries files (files/): only then does a turn read the branch's
    # attachments, so a conversation without files costs no query for them.
    has_files = models.BooleanField(default=False, editable=False)
    # A temporary chat: never listed, searched, exported, reviewed or put in a dataset, and
    # deleted by the runner once closed (`closed_at`: its owner left it) or a day old
    # (deletion/temporary.py).
    temporary = models.BooleanField(default=False, editable=False)
    closed_at = models.DateTimeField(null=True, blank=True, editable=False)
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
            # The runner's temporary-chat job looks only at temporary chats.
            models.Index(fields=["created_at"], condition=Q(temporary=True), name="conv_temporary"),
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
    tool_record = models.JSONField(
        null=True,
        blank=True,
        help_text="Tool: how the call went (source, server, tool, arguments, duration, outcome).",
    )
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


# The app's models kept with their domains: imported here, Django registers them with the
# app (their tables, content types and permissions are the app's, as they always were).
from .access.models import AccessRule  # noqa: E402
from .accounts.models import Invite, RecoveryCode, SetupToken, SignIn, UserSettings  # noqa: E402
from .catalog.models import ModelInfo  # noqa: E402
from .compare.models import CompareGroup, CompareReply, CompareSettings, Preference  # noqa: E402
from .deletion.models import RetentionRule, RunnerLease  # noqa: E402
from .files.models import Attachment  # noqa: E402
from .limits.models import DailyTokens, TokenQuota, TurnAllowance  # noqa: E402
from .mcp_servers.models import McpServer  # noqa: E402
from .projects.models import Project  # noqa: E402
from .prompts.models import Prompt  # noqa: E402
from .sharing.models import ShareLink  # noqa: E402
from .sso.models import SsoSession  # noqa: E402
from .tags.models import Tag  # noqa: E402

__all__ = [
    "AccessRule",
    "Attachment",
    "CompareGroup",
    "CompareReply",
    "CompareSettings",
    "Conversation",
    "DailyTokens",
    "Invite",
    "McpServer",
    "Message",
    "ModelInfo",
    "Persona",
    "Preference",
    "Project",
    "Prompt",
    "RecoveryCode",
    "RetentionRule",
    "RunnerLease",
    "SetupToken",
    "ShareLink",
    "SignIn",
    "SsoSession",
    "Tag",
    "TokenQuota",
    "TurnAllowance",
    "UserSettings",
]
