"""Prompts: saved text a user inserts with a slash command, their own or shared by staff."""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q

from .variables import MAX_TEXT_CHARS, validate_text

COMMAND_MAX = 40
command_validator = RegexValidator(
    r"\A[a-z0-9][a-z0-9_-]{0,39}\Z",
    "A command is lowercase letters, digits, - and _, starting with a letter or digit.",
)


class Prompt(models.Model):
    """Text with `{{variables}}` (variables.py) behind `/command`; owner null means shared,
    published by staff to everyone or, by an access rule, to some groups."""

    command = models.CharField(
        max_length=COMMAND_MAX,
        validators=[command_validator],
        help_text="Typed after / in the message box: lowercase letters, digits, - and _.",
    )
    title = models.CharField(max_length=100)
    text = models.TextField(
        max_length=MAX_TEXT_CHARS,
        validators=[validate_text],
        help_text="{{name}} or {{name:default}} asks for a value when the prompt is chosen; "
        "{{date}}, {{time}}, {{user}} and {{clipboard}} are built in.",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="prompts",
        help_text="Empty: shared, published by staff (to everyone, or to groups by an "
        "access rule of kind “Shared prompt”).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["command", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "command"],
                condition=Q(owner__isnull=False),
                name="prompt_command_unique_per_owner",
            ),
            models.UniqueConstraint(
                fields=["command"],
                condition=Q(owner__isnull=True),
                name="prompt_command_unique_shared",
            ),
        ]

    def __str__(self) -> str:
        return f"/{self.command}"
