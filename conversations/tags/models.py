"""A user's tag: a short label on any number of their conversations."""

from django.conf import settings
from django.db import models

NAME_MAX_CHARS = 40  # A chip in the sidebar, and a word in a search query.


class Tag(models.Model):
    """One of a user's tags. `key` is the name folded for comparison (tags.names.key):
    one tag per name per user, whatever its case."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=NAME_MAX_CHARS)
    key = models.CharField(max_length=NAME_MAX_CHARS * 3, editable=False)
    conversations = models.ManyToManyField(
        "conversations.Conversation", related_name="tags", blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["key"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "key"], name="tag_name_once_per_owner")
        ]

    def __str__(self) -> str:
        return self.name
