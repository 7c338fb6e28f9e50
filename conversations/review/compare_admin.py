"""Users' compare choices in the admin, read-only, for staff with review rights: each is
a preference record (what the leaderboard and the preference export read). A reviewer
sees only the choices in conversations they may open, as everywhere in review."""

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from ..compare.models import Preference
from . import permissions, selectors

NONE = "\N{EN DASH}"


@admin.register(Preference)
class PreferenceAdmin(admin.ModelAdmin):
    list_display = ("created_at", "user", "verdict", "chosen_label", "blind", "transcript")
    list_display_links = None
    list_filter = ("verdict", "blind", "created_at")
    list_select_related = ("user", "chosen")
    date_hierarchy = "created_at"
    list_per_page = 100
    actions = None

    def get_queryset(self, request: HttpRequest):
        readable = selectors.conversations_for(user=request.user)
        return super().get_queryset(request).filter(conversation__in=readable)

    @admin.display(description="Chosen")
    def chosen_label(self, preference: Preference) -> str:
        return preference.chosen.label if preference.chosen else NONE

    @admin.display(description="Conversation", ordering="conversation_id")
    def transcript(self, preference: Preference) -> str:
        url = reverse("review:transcript", args=[preference.conversation_id])
        anchor = f"#m{preference.chosen.message_id}" if preference.chosen else ""
        return format_html('<a href="{}{}">#{}</a>', url, anchor, preference.conversation_id)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return permissions.can_review(request.user)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return permissions.can_review(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
