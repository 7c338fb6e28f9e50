"""The admin's retention rules per group (the site's own rule is CHAT_RETENTION_DAYS)."""

from django import forms
from django.conf import settings
from django.contrib import admin

from .models import RetentionRule


class RetentionRuleForm(forms.ModelForm):
    class Meta:
        model = RetentionRule
        fields = ("group", "days")

    def clean_days(self) -> int:
        days = self.cleaned_data["days"]
        site = settings.CHAT_RETENTION_DAYS
        if site and days >= site:
            # The shortest rule wins: a longer one would change nothing, yet look as if it did.
            raise forms.ValidationError(
                f"The site deletes conversations untouched for {site} days "
                f"(CHAT_RETENTION_DAYS): a group's rule must be shorter."
            )
        return days


@admin.register(RetentionRule)
class RetentionRuleAdmin(admin.ModelAdmin):
    """Shorter retention for some groups: their members' untouched conversations go sooner."""

    form = RetentionRuleForm
    list_display = ("group", "days", "updated_at")
    search_fields = ("group__name",)
    autocomplete_fields = ("group",)

    def changelist_view(self, request, extra_context=None):
        site = settings.CHAT_RETENTION_DAYS
        self.message_user(
            request,
            (
                f"Everyone else's conversations are deleted after {site} days untouched "
                "(CHAT_RETENTION_DAYS)."
                if site
                else "Everyone else's conversations are kept until deleted (CHAT_RETENTION_DAYS=0)."
            )
            + " Users may choose a shorter period in Settings; a conversation with an open "
            "review item is kept until the item is resolved.",
        )
        return super().changelist_view(request, extra_context)
