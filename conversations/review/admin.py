"""Admin pages of the review app: the queue, score configs and the audit log."""

import json

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.timesince import timesince

from . import (
    compare_admin,  # noqa: F401 - registers users' compare choices
    conversation_admin,  # noqa: F401 - registers conversations and messages
    permissions,
    selectors,
    services,
)
from .item_views import item_url
from .models import FEEDBACK_CATEGORIES, REPORT_CATEGORIES, AuditEntry, QueueItem, ScoreConfig

NONE = "\N{EN DASH}"


class QueueActionForm(ActionForm):
    """The action bar's extra fields: whom to assign to, and a resolution note."""

    assignee = forms.ModelChoiceField(
        queryset=selectors.assignees(), required=False, empty_label="(assignee)"
    )
    note = forms.CharField(
        required=False,
        max_length=10_000,
        widget=forms.TextInput({"placeholder": "Resolution note"}),
    )


class ReviewsFilter(admin.SimpleListFilter):
    """Items short of the reviews a config asks for, or with all of them; shown only while
    some active config asks for more than one."""

    title = "reviews"
    parameter_name = "reviews"

    def lookups(self, request, model_admin):
        if not selectors.multi_review_configs():
            return []
        return [("needed", "Needs more"), ("complete", "Complete")]

    def queryset(self, request, queryset):
        if self.value() == "needed":
            return queryset.filter(selectors.needing_reviews_q())
        if self.value() == "complete":
            return queryset.exclude(selectors.needing_reviews_q())
        return queryset


class DisagreementFilter(admin.SimpleListFilter):
    """Items whose reviewers' scores differ, on any active config or on one."""

    title = "reviewers disagree"
    parameter_name = "disagree"

    def lookups(self, request, model_admin):
        configs = selectors.agreement_configs()
        return [("any", "On any score")] + [(str(c.pk), f"On {c.name}") for c in configs]

    def queryset(self, request, queryset):
        if self.value() == "any":
            return queryset.filter(selectors.disagreeing_q())
        if self.value() and self.value().isdigit():
            return queryset.filter(selectors.disagreeing_q(config_id=int(self.value())))
        return queryset


@admin.register(QueueItem)
class QueueItemAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "transcript",
        "flagged",
        "user_said",
        "reason",
        "status",
        "assignee",
        "model",
        "persona",
        "reviews",
        "age",
        "holder",
    )
    list_display_links = ("transcript",)
    list_filter = (
        "reason",
        "status",
        ("assignee", admin.RelatedOnlyFieldListFilter),
        "model",
        ("conversation__persona", admin.RelatedOnlyFieldListFilter),
        "created_at",
        ReviewsFilter,
        DisagreementFilter,
    )
    list_select_related = (
        "conversation",
        "conversation__persona",
        "assignee",
        "review_lock__holder",
    )
    date_hierarchy = "created_at"
    action_form = QueueActionForm
    actions = ["assign_to_me", "assign_to_chosen", "start_review", "resolve", "dismiss", "reopen"]
    list_per_page = 50

    class Media:
        css = {"all": ("review/review.css",)}

    def get_queryset(self, request):
        return selectors.queue_rows(queryset=super().get_queryset(request))

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {"title": "Review queue", **(extra_context or {})})

    @admin.display(description="Conversation", ordering="conversation__title")
    def transcript(self, item: QueueItem) -> str:
        # The row's link: the admin adds the list's filters, and change_view goes on to
        # the item's page with them.
        return item.conversation.title or "Untitled"

    @admin.display(description="Open by")
    def holder(self, item: QueueItem) -> str:
        lock = getattr(item, "review_lock", None)
        if lock is None or lock.expires_at <= timezone.now():
            return NONE
        return format_html('<span class="rv-row-holder">{}</span>', lock.holder.get_username())

    @admin.display(description="Flagged reply")
    def flagged(self, item: QueueItem) -> str:
        if not item.message_id:
            return "(the whole conversation)"
        text = " ".join((item.reply_start or "").split())  # As written; escaped when shown.
        return Truncator(text).chars(160) or NONE

    @admin.display(description="The user said")
    def user_said(self, item: QueueItem) -> str:
        if item.feedback_rating:
            names = FEEDBACK_CATEGORIES.get(item.feedback_rating, {})
            rating = "Thumbs up" if item.feedback_rating == "up" else "Thumbs down"
            categories, comment = item.feedback_categories or [], item.feedback_comment
        elif item.report_categories is not None:
            names, rating = REPORT_CATEGORIES, "Report"
            categories, comment = item.report_categories or [], item.report_comment
        else:
            return NONE
        labels = ", ".join(names.get(c, str(c)) for c in categories if isinstance(c, str))
        said = f"{rating}{f' ({labels})' if labels else ''}"
        return f"{said}: “{Truncator(comment).chars(200)}”" if comment else said

    @admin.display(description="Age", ordering="created_at")
    def age(self, item: QueueItem) -> str:
        return timesince(item.created_at, depth=1)

    @admin.display(description="Persona", ordering="conversation__persona__name")
    def persona(self, item: QueueItem) -> str:
        return item.conversation.persona.name if item.conversation.persona else NONE

    @admin.display(description="Reviews")
    def reviews(self, item: QueueItem) -> str:
        progress = getattr(item, "review_progress", None)
        return f"{progress[0]}/{progress[1]} reviews" if progress else NONE

    def get_changelist_instance(self, request):
        # The page's review progress in one query, kept on its rows for `reviews`.
        changelist = super().get_changelist_instance(request)
        rows = changelist.result_list
        progress = selectors.review_progress(
            item_ids=[item.pk for item in rows], configs=selectors.multi_review_configs()
        )
        for item in rows:
            item.review_progress = progress.get(item.pk)
        return changelist

    def has_module_permission(self, request) -> bool:
        return permissions.can_review(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return permissions.can_review(request.user) and super().has_view_permission(request, obj)

    def has_add_permission(self, request) -> bool:
        return False  # Added from a transcript or the conversation list.

    def has_change_permission(self, request, obj=None) -> bool:
        return permissions.can_work_queue(request.user)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # Dismiss instead: nothing is lost.

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # An item is worked on beside its conversation, on its own page, which walks
        # the list the reviewer came from.
        item = selectors.queue_item_get(item_id=object_id)
        if item is None or not self.has_view_permission(request):
            return super().change_view(request, object_id, form_url, extra_context)
        return redirect(item_url(item.pk, filters=request.GET.get("_changelist_filters", "")))

    def _move(self, request, queryset, status: str) -> None:
        try:
            count = services.queue_set_status(
                actor=request.user,
                items=selectors.queue_items_chosen(items=queryset),
                status=status,
                note=request.POST.get("note", "")[:10_000],
            )
        except services.BadTransition as exc:
            self.message_user(request, f"Nothing changed: {exc}", messages.ERROR)
        else:
            label = QueueItem.Status(status).label.lower()
            self.message_user(request, f"{count} item(s) now {label}.", messages.SUCCESS)

    @admin.action(description="Assign selected items to me", permissions=["change"])
    def assign_to_me(self, request, queryset) -> None:
        count = services.queue_assign(
            actor=request.user,
            items=selectors.queue_items_chosen(items=queryset),
            assignee=request.user,
        )
        self.message_user(request, f"{count} item(s) assigned to you.", messages.SUCCESS)

    @admin.action(
        description="Assign selected items to the chosen reviewer", permissions=["change"]
    )
    def assign_to_chosen(self, request, queryset) -> None:
        assignee = selectors.assignee_get(user_id=request.POST.get("assignee"))
        if assignee is None:
            self.message_user(request, "Choose a reviewer to assign to.", messages.ERROR)
            return
        count = services.queue_assign(
            actor=request.user,
            items=selectors.queue_items_chosen(items=queryset),
            assignee=assignee,
        )
        self.message_user(
            request, f"{count} item(s) assigned to {assignee.get_username()}.", messages.SUCCESS
        )

    @admin.action(description="Mark selected items in review", permissions=["change"])
    def start_review(self, request, queryset) -> None:
        self._move(request, queryset, QueueItem.Status.IN_REVIEW)

    @admin.action(description="Resolve selected items (with the note)", permissions=["change"])
    def resolve(self, request, queryset) -> None:
        self._move(request, queryset, QueueItem.Status.RESOLVED)

    @admin.action(description="Dismiss selected items (with the note)", permissions=["change"])
    def dismiss(self, request, queryset) -> None:
        self._move(request, queryset, QueueItem.Status.DISMISSED)

    @admin.action(description="Reopen selected items", permissions=["change"])
    def reopen(self, request, queryset) -> None:
        self._move(request, queryset, QueueItem.Status.OPEN)


@admin.register(ScoreConfig)
class ScoreConfigAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "kind",
        "min_value",
        "max_value",
        "marks_good_example",
        "reviews_required",
        "active",
    )
    list_filter = ("kind", "active")
    search_fields = ("name", "description")


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Superusers read it; nobody adds, changes or deletes entries here."""

    list_display = (
        "created_at",
        "actor_username",
        "action",
        "conversation",
        "message_id",
        "owner",
        "queue_item_id",
        "detail_text",
    )
    list_filter = ("action", "created_at")
    search_fields = ("=actor_username",)
    date_hierarchy = "created_at"
    list_per_page = 100
    actions = None

    class Media:
        css = {"all": ("review/review.css",)}

    def get_queryset(self, request):
        return selectors.audit_log(queryset=super().get_queryset(request))

    def get_search_results(self, request, queryset, search_term):
        # Digits also find a conversation or its owner by id.
        if search_term.strip().isdigit():
            found = selectors.audit_log_about(queryset=queryset, object_id=int(search_term))
            return found, False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description="Conversation", ordering="conversation_id")
    def conversation(self, entry: AuditEntry) -> str:
        if entry.conversation_id is None:
            return NONE
        if not entry.conversation_exists:
            return format_html("#{} (deleted)", entry.conversation_id)
        url = reverse("review:transcript", args=[entry.conversation_id])
        return format_html('<a href="{}">#{}</a>', url, entry.conversation_id)

    @admin.display(description="Owner", ordering="owner_id")
    def owner(self, entry: AuditEntry) -> str:
        # The name is looked up as the list is read (selectors.audit_log), not kept in
        # the entry: an entry names nobody once their account is deleted.
        if entry.owner_id is None:
            return NONE
        if not entry.owner_username:
            return f"#{entry.owner_id} (deleted)"
        return f"{entry.owner_username} (#{entry.owner_id})"

    @admin.display(description="Detail")
    def detail_text(self, entry: AuditEntry) -> str:
        return format_html("<code>{}</code>", json.dumps(entry.detail, separators=(", ", ": ")))

    def has_module_permission(self, request) -> bool:
        return permissions.can_read_audit(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return permissions.can_read_audit(request.user)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
