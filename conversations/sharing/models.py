"""A share link: a snapshot of one branch of a conversation, behind a secret token.

Only the token's SHA-256 is stored: the link is shown once, when it is made. The snapshot
is taken then and never follows the conversation; it goes with the row (the conversation's
or the owner's deletion cascades to it, and revoking empties it).
"""

from django.conf import settings
from django.db import models


class ShareLink(models.Model):
    class Audience(models.TextChoices):
        SIGNED_IN = "signed_in", "Signed-in users of this site"
        ANYONE = "anyone", "Anyone with the link"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="share_links"
    )
    conversation = models.ForeignKey(
        "conversations.Conversation", on_delete=models.CASCADE, related_name="share_links"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    title = models.CharField(max_length=200, blank=True)
    # {"messages": [...], "instructions": str | None}: what the shared page shows.
    snapshot = models.JSONField(default=dict, blank=True)
    include_instructions = models.BooleanField(default=False)
    audience = models.CharField(max_length=16, choices=Audience.choices)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["owner", "-created_at"], name="share_owner_created")]

    def __str__(self) -> str:
        return f"Share of {self.title or self.conversation_id}"
