"""The admin's sign-up invites."""

from django.contrib import admin, messages
from django.urls import reverse

from . import services as account_services
from .models import Invite


@admin.register(Invite)
class InviteAdmin(admin.ModelAdmin):
    """Sign-up invites (CHAT_SIGNUP=invite): made here, single-use, expiring; delete to revoke."""

    list_display = ("__str__", "state", "created_by", "created_at", "expires_at", "used_by")
    list_filter = ("created_at", "expires_at", "used_at")
    search_fields = ("note",)
    fields = ("note", "expires_at", "created_by", "created_at", "used_by", "used_at")
    readonly_fields = ("created_by", "created_at", "used_by", "used_at")

    def has_change_permission(self, request, obj=None) -> bool:
        # Only the code's hash is kept: an invite cannot be shown or changed, only replaced.
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change) -> None:
        invite, code = account_services.invite_create(
            created_by=request.user, note=obj.note, expires_at=obj.expires_at
        )
        obj.pk, obj.code_hash, obj.created_at = invite.pk, invite.code_hash, invite.created_at
        link = request.build_absolute_uri(f"{reverse('signup')}?invite={code}")
        self.message_user(
            request,
            f"Invite “{invite}” made. Its link is shown only this once, so copy it now: {link}",
            messages.SUCCESS,
        )
