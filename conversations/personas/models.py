"""Personas: a system prompt with model settings, a user's own or shared."""

from django.conf import settings
from django.db import models


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
