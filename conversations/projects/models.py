"""A project: a named group of one user's conversations, with instructions and defaults."""

from django.conf import settings
from django.db import models

from ..personas.models import Persona

NAME_CHARS = 100
INSTRUCTIONS_CHARS = 20_000  # Sent with every reply in the project: kept well in a budget.
MAX_TOOLS = 64  # Default tools named; more than any deployment registers.


class Project(models.Model):
    """One user's group of conversations. Its instructions go into the system message of
    every reply in it; its defaults start each new chat made in it."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="projects"
    )
    name = models.CharField(max_length=NAME_CHARS)
    instructions = models.TextField(blank=True, max_length=INSTRUCTIONS_CHARS)
    default_persona = models.ForeignKey(
        Persona, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    default_model = models.CharField(max_length=200, blank=True, help_text="Blank: none.")
    default_tools = models.JSONField(default=list, blank=True, help_text="Names of tools.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        app_label = "conversations"
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="project_owner_name_unique")
        ]

    def __str__(self) -> str:
        return self.name
