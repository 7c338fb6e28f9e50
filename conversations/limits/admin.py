"""Staff pages for the limits: daily token quotas per user or group, and tokens used per day."""

from django.conf import settings
from django.contrib import admin

from . import turn_limits
from .models import DailyTokens, TokenQuota


@admin.register(TokenQuota)
class TokenQuotaAdmin(admin.ModelAdmin):
    """Quotas staff set: a user's own wins over their groups'; the most generous group wins."""

    list_display = ("__str__", "user", "group", "daily_tokens", "updated_at")
    list_filter = ("group",)
    search_fields = ("user__username", "group__name")
    autocomplete_fields = ("user", "group")

    def changelist_view(self, request, extra_context=None):
        default = settings.CHAT_DAILY_TOKENS
        self.message_user(
            request,
            "Everyone else may use "
            + (
                f"{default:,} tokens a day (CHAT_DAILY_TOKENS)."
                if default
                else "any number of tokens."
            ),
        )
        return super().changelist_view(request, extra_context)


@admin.register(DailyTokens)
class DailyTokensAdmin(admin.ModelAdmin):
    """Tokens each user's replies used per day (UTC), kept for 90 days. Read-only."""

    list_display = ("user", "day", "tokens", "quota")
    list_filter = ("day",)
    search_fields = ("user__username",)
    date_hierarchy = "day"

    @admin.display(description="daily quota")
    def quota(self, row: DailyTokens) -> str:
        quota = turn_limits.daily_quota(user_id=row.user_id)
        return "no limit" if quota is None else f"{quota:,}"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
