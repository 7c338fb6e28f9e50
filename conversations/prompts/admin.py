"""The admin's prompts: shared ones staff publish (to everyone, or to groups through an
access rule of kind "Shared prompt"), and any user's."""

from django.contrib import admin

from .models import Prompt


@admin.register(Prompt)
class PromptAdmin(admin.ModelAdmin):
    list_display = ("command", "title", "owner", "updated_at")
    list_filter = (("owner", admin.EmptyFieldListFilter),)
    search_fields = ("command", "title", "text")
    raw_id_fields = ("owner",)
