"""Share links in the admin: which conversations were shared, to whom and until when.

Read-only, and without the snapshot or the token's hash: staff see that a conversation was
shared (reviewers also see it on its transcript), not what the link shows."""

from django.contrib import admin

from .models import ShareLink


@admin.register(ShareLink)
class ShareLinkAdmin(admin.ModelAdmin):
    list_display = (
        "title",
        "owner",
        "conversation_id",
        "audience",
        "created_at",
        "expires_at",
        "revoked_at",
    )
    list_filter = ("audience",)
    search_fields = ("title", "owner__username")
    fields = (
        "title",
        "owner",
        "conversation",
        "audience",
        "include_instructions",
        "created_at",
        "expires_at",
        "revoked_at",
    )
    readonly_fields = fields
    list_select_related = ("owner",)

    def get_queryset(self, request):
        return super().get_queryset(request).defer("snapshot")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
