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
        "enabled",
        "available",
    )
    list_editable = ("display_name", "context_window", "supports_tools", "enabled")
    list_filter = ("enabled", "available", "supports_tools")
    search_fields = ("model_id", "display_name")
