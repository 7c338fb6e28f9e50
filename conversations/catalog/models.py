"""What the app knows of each model: from the built-in catalog, the provider, or staff."""

from django.db import models


class ModelInfo(models.Model):
    """What the app knows of a model: from the built-in catalog, the provider, or staff."""

    model_id = models.CharField(max_length=200, unique=True)
    display_name = models.CharField(max_length=200, blank=True)
    context_window = models.PositiveIntegerField(default=32768)
    supports_tools = models.BooleanField(default=False)
    supports_images = models.BooleanField(
        default=False,
        help_text="Takes images (from the provider's model list, or set here by staff).",
    )
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
