"""Access rules: which groups may use one thing (a model, a shared persona, a tool...)."""

from django.db import models

from . import kinds


class AccessRule(models.Model):
    """The groups whose members may use one thing of a kind; everyone else may not.

    A thing with no rule is everyone's. `kind` is a key of kinds.KINDS (not a database
    choice: a new kind needs no migration); `name` the thing's key in its kind.
    """

    kind = models.CharField(max_length=32)
    name = models.CharField(max_length=200)
    groups = models.ManyToManyField(
        "auth.Group",
        related_name="access_rules",
        help_text="Only members of these groups may use it.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind", "name"]
        verbose_name = "who may use what"
        verbose_name_plural = "who may use what"
        constraints = [
            models.UniqueConstraint(fields=["kind", "name"], name="access_rule_kind_name"),
        ]

    def __str__(self) -> str:
        return f"{kinds.label(self.kind)} {self.name}"
