"""Admin pages of the review app: the queue, score configs and the audit log."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html

from . import (
    compare_admin,  # noqa: F401 - registers users' compare choices
    conversation_admin,  # noqa: F401 - registers conversations and messages
    permissions,
    selectors,
    services,
)
from .models import AuditEntry, QueueItem, ScoreConfig

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


@admin.register(QueueItem)
class QueueItemAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "transcript",
        "reason",
        "status",
        "assignee",
        "model",
        "persona",
        "created_at",
    )
    list_display_links = None
    list_filter = (
        "reason",
        "status",
        ("assignee", admin.RelatedOnlyFieldListFilter),
        "model",
        ("conversation__persona", admin.RelatedOnlyFieldListFilter),
        "created_at",
    )
    list_select_related = ("conversation", "conversation__persona", "assignee")
    date_hierarchy = "created_at"
    action_form = QueueActionForm
    actions = ["assign_to_me", "assign_to_chosen", "start_review", "resolve", "dismiss", "reopen"]
    list_per_page = 50

    @admin.display(description="Conversation", ordering="conversation__title")
    def transcript(self, item: QueueItem) -> str:
        url = reverse("review:transcript", args=[item.conversation_id])
        anchor = f"#m{item.message_id}" if item.message_id else "#queue"
        return format_html(
            '<a href="{}{}">{}</a>', url, anchor, item.conversation.title or "Untitled"
        )

    @admin.display(description="Persona", ordering="conversation__persona__name")
    def persona(self, item: QueueItem) -> str:
        return item.conversation.persona.name if item.conversation.persona else NONE

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

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {"title": "Review queue", **(extra_context or {})})

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # An item is worked on beside its conversation, in the transcript view.
        item = selectors.queue_item_get(item_id=object_id)
        if item is None or not self.has_view_permission(request):
            return super().change_view(request, object_id, form_url, extra_context)
        url = reverse("review:transcript", args=[item.conversation_id])
        return redirect(f"{url}#item-{item.pk}")

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
    list_display = ("name", "kind", "min_value", "max_value", "marks_good_example", "active")
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
        "owner_id",
        "queue_item_id",
        "detail",
    )
    list_filter = ("action", "created_at")
    search_fields = ("=actor_username",)
    date_hierarchy = "created_at"
    list_per_page = 100
    actions = None

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
