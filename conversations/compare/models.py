"""Side-by-side compares: two to four replies to one message, written at once, and the
user's choice among them.

A compare fits the message tree as it is: its replies are sibling assistant messages
under the one user message (versions, as regenerations are), so the version switcher,
exports and review see them with no new shape. These rows only say which siblings were
compared, what each was (model, persona), and what the user chose.
"""

from django.conf import settings
from django.db import models

from ..personas.models import Persona

MIN_REPLIES = 2
MAX_REPLIES = 4
REASON_CHARS = 2000


class CompareGroup(models.Model):
    """The replies written at once to one user message, to be compared."""

    conversation = models.ForeignKey(
        "conversations.Conversation", on_delete=models.CASCADE, related_name="compare_groups"
    )
    # The user message the replies answer: one compare per message.
    prompt = models.OneToOneField(
        "conversations.Message", on_delete=models.CASCADE, related_name="compare_group"
    )
    # Model and persona names are hidden from the user until they have chosen.
    blind = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "conversations"
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Compare {self.pk} in conversation {self.conversation_id}"


class CompareReply(models.Model):
    """One reply of a compare group: its column (slot), and what wrote it."""

    group = models.ForeignKey(CompareGroup, on_delete=models.CASCADE, related_name="replies")
    message = models.OneToOneField(
        "conversations.Message", on_delete=models.CASCADE, related_name="compare_reply"
    )
    slot = models.PositiveSmallIntegerField(help_text="Its column, from 0.")
    model = models.CharField(max_length=200)
    persona = models.ForeignKey(
        Persona, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Kept as it was, so rankings still name a persona deleted since.
    persona_name = models.CharField(max_length=100, blank=True)

    class Meta:
        app_label = "conversations"
        ordering = ["group", "slot"]
        constraints = [
            models.UniqueConstraint(fields=["group", "slot"], name="compare_reply_slot_unique")
        ]

    def __str__(self) -> str:
        return f"{self.label} (slot {self.slot})"

    @property
    def label(self) -> str:
        """What it is called once revealed: the persona with its model, or the model."""
        return f"{self.persona_name} · {self.model}" if self.persona_name else self.model


class Preference(models.Model):
    """A user's choice among a compare group's replies: every choice is one record, and
    choosing again replaces it."""

    class Verdict(models.TextChoices):
        WINNER = "winner", "This one is better"
        TIE = "tie", "Tie"
        BOTH_BAD = "both_bad", "All are bad"

    group = models.OneToOneField(CompareGroup, on_delete=models.CASCADE, related_name="preference")
    conversation = models.ForeignKey(
        "conversations.Conversation", on_delete=models.CASCADE, related_name="+"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    verdict = models.CharField(max_length=16, choices=Verdict.choices)
    # The better reply (verdict "winner"); for a tie or "all bad", the one the conversation
    # goes on from.
    chosen = models.ForeignKey(
        CompareReply, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField(blank=True, max_length=REASON_CHARS)
    blind = models.BooleanField(default=False, help_text="The names were hidden when chosen.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        app_label = "conversations"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["-created_at"], name="preference_created")]

    def __str__(self) -> str:
        return f"{self.get_verdict_display()} in compare {self.group_id}"


class CompareSettings(models.Model):
    """Site-wide compare defaults staff set in the admin: one row (pk 1)."""

    blind_by_default = models.BooleanField(
        default=False,
        help_text="New compares hide model names until the user has chosen (users may "
        "still turn it off for a compare).",
    )

    class Meta:
        app_label = "conversations"
        verbose_name = "compare settings"
        verbose_name_plural = "compare settings"

    def __str__(self) -> str:
        return "Compare settings"
