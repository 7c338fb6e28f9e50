"""The admin's models: what staff change of each model the catalog offers."""

from django.contrib import admin

from .models import ModelInfo


@admin.register(ModelInfo)
class ModelInfoAdmin(admin.ModelAdmin):
    list_display = (
        "model_id",
        "display_name",
        "context_window",
        "supports_tools",
        "supports_images",
        "enabled",
        "available",
    )
    list_editable = (
        "display_name",
        "context_window",
        "supports_tools",
        "supports_images",
        "enabled",
    )
    list_filter = ("enabled", "available", "supports_tools", "supports_images")
    search_fields = ("model_id", "display_name")
