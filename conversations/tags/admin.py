"""The admin's tags: any user's, listed with how many conversations each is on, and
deleted; never made or edited here (that is the owner's, through the chat)."""

from django.contrib import admin
from django.db.models import Count

from .models import Tag


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "conversation_count", "created_at")
    search_fields = ("name", "owner__username")
    # Not which conversations: their titles are the owner's, shown to reviewers only.
    fields = readonly_fields = ("owner", "name", "key", "created_at")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(conversation_count=Count("conversations"))

    @admin.display(description="Conversations", ordering="conversation_count")
    def conversation_count(self, tag: Tag) -> int:
        return tag.conversation_count  # type: ignore[attr-defined]

    def has_add_permission(self, request) -> bool:
        return False  # Tags are made by their owners, through the chat.

    def has_change_permission(self, request, obj=None) -> bool:
        return False
