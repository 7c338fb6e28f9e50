"""The admin's tags: any user's, read and deleted, never edited around the services."""

from django.contrib import admin
from django.db.models import Count

from .models import Tag


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "conversation_count", "created_at")
    search_fields = ("name", "owner__username")
    readonly_fields = ("owner", "name", "key", "conversations", "created_at")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(conversation_count=Count("conversations"))

    @admin.display(description="Conversations", ordering="conversation_count")
    def conversation_count(self, tag: Tag) -> int:
        return tag.conversation_count  # type: ignore[attr-defined]

    def has_add_permission(self, request) -> bool:
        return False  # Tags are made by their owners, through the chat.

    def has_change_permission(self, request, obj=None) -> bool:
        return False
