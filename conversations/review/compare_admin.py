"""Users' compare choices in the admin, read-only, for staff with review rights: each is
a preference record (what the leaderboard and the preference export read). A reviewer
sees only the choices in conversations they may open, as everywhere in review."""

from django.contrib import admin
from django.http import HttpRequest
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html

from ..compare.models import Preference
from . import permissions, selectors

NONE = "\N{EN DASH}"


def _transcript_url(preference: Preference) -> str:
    """The transcript on the branch of the chosen reply, at it."""
    url = reverse("review:transcript", args=[preference.conversation_id])
    if preference.chosen is None:
        return url
    message = preference.chosen.message_id
    return f"{url}?leaf={message}#m{message}"


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
        return format_html(
            '<a href="{}">#{}</a>', _transcript_url(preference), preference.conversation_id
        )

    def change_view(self, request: HttpRequest, object_id, form_url="", extra_context=None):
        # A choice is read beside its replies, in the transcript (audited there), not in
        # a page of raw fields.
        preference = self.get_object(request, object_id)
        if preference is None or not self.has_view_permission(request):
            return super().change_view(request, object_id, form_url, extra_context)
        return redirect(_transcript_url(preference))

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
