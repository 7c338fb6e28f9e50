"""The admin's conversations and messages, as review shows them: finding conversations
(read in the transcript view, audited), deleting them with a tombstone, queueing them and
exporting datasets from the list, and the raw message admin for superusers."""

from django.contrib import admin, messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html

from ..models import Conversation, Message
from . import datasets, permissions
from . import selectors as review_selectors
from . import services as review_services
from .models import AuditEntry

MESSAGE_FIELDS = (
    "id",
    "parent",
    "role",
    "status",
    "content",
    "reasoning",
    "model",
    "finish_reason",
    "error",
    "error_detail",
    "tool_calls",
    "tool_call_id",
    "tool_name",
    "request",
    "prompt_tokens",
    "completion_tokens",
    "usage_estimated",
    "client_id",
    "created_at",
)


def _audit_search(request, response, model_name: str) -> None:
    """Search results that matched message text show content: record who searched, and
    which conversations came up (never the words searched for)."""
    cl = getattr(response, "context_data", {}).get("cl") if response.status_code == 200 else None
    if cl is None or not cl.query:
        return
    shown = list(cl.result_list)
    review_services.audit_record(
        actor=request.user,
        action=AuditEntry.Action.SEARCH,
        detail={
            "in": model_name,
            "results": cl.result_count,
            "shown": [getattr(o, "conversation_id", o.pk) for o in shown],
        },
        request=request,
    )


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    """Find conversations; each links to its transcript. Reviewers see only queued (or
    rated) ones unless they may open any; nothing here is editable."""

    list_display = ("transcript", "owner", "model", "persona", "created_at", "updated_at")
    list_display_links = None
    list_filter = (
        ("owner", admin.RelatedOnlyFieldListFilter),
        "model",
        ("persona", admin.RelatedOnlyFieldListFilter),
        "messages__status",
        "created_at",
    )
    search_fields = ("title", "messages__content")
    date_hierarchy = "created_at"
    list_select_related = ("owner", "persona")
    actions = ["add_to_queue", "export_finetune", "export_preference", "export_annotations"]

    @admin.display(description="Conversation", ordering="title")
    def transcript(self, conversation: Conversation) -> str:
        url = reverse("review:transcript", args=[conversation.pk])
        return format_html('<a href="{}">{}</a>', url, conversation.title or "Untitled")

    def get_queryset(self, request):
        return review_selectors.conversations_for(
            user=request.user, queryset=super().get_queryset(request)
        )

    def get_search_results(self, request, queryset, search_term):
        queryset, _ = super().get_search_results(request, queryset, search_term)
        # Searching message text joins messages: show each conversation once.
        return queryset.distinct(), False

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        _audit_search(request, response, "conversations")
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # Conversations are read in the transcript view, which checks access and audits.
        return redirect("review:transcript", conversation_id=object_id)

    def has_module_permission(self, request) -> bool:
        return permissions.can_review(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return permissions.can_review(request.user) and super().has_view_permission(request, obj)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser  # One at a time: no bulk delete is offered.

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        if not permissions.can_work_queue(request.user):
            actions.pop("add_to_queue", None)
        if not permissions.can_export(request.user):
            for name in ("export_finetune", "export_preference", "export_annotations"):
                actions.pop(name, None)
        return actions

    def get_deleted_objects(self, objs, request):
        # The confirmation page lists no message text, only how much goes.
        conversations = list(objs)
        count = review_selectors.message_count(conversations=conversations)
        listed = [
            f"Conversation #{c.pk}: {count} messages, their feedback and review"
            for c in conversations
        ]
        return listed, {"conversations": len(conversations), "messages": count}, set(), []

    def delete_model(self, request, obj: Conversation) -> None:
        review_services.conversation_delete_by_staff(
            actor=request.user, conversation=obj, request=request
        )

    def response_delete(self, request, obj_display, obj_id):
        return super().response_delete(request, f"#{obj_id}", obj_id)

    def log_deletions(self, request, queryset) -> None:
        # The admin's own history keeps no title: a deleted conversation leaves no text.
        review_services.deletions_log(actor=request.user, conversations=queryset)

    @admin.action(description="Add selected conversations to the review queue")
    def add_to_queue(self, request, queryset) -> None:
        try:
            count = review_services.queue_add_many(actor=request.user, conversations=queryset)
        except review_services.NotQueueable as refused:
            self.message_user(request, str(refused), messages.ERROR)
            return
        self.message_user(request, f"Queued {count} conversation(s).", messages.SUCCESS)

    def _export(self, request, queryset, kind: str):
        response = datasets.download(
            request,
            kind=kind,
            queryset=queryset,
            filters={"selected": queryset.count()},
        )
        if response is None:
            self.message_user(request, "Too many conversations selected.", messages.ERROR)
        return response

    @admin.action(description="Export fine-tuning JSONL of selected conversations")
    def export_finetune(self, request, queryset):
        return self._export(request, queryset, "finetune")

    @admin.action(description="Export preference pairs (DPO) JSONL of selected conversations")
    def export_preference(self, request, queryset):
        return self._export(request, queryset, "preference")

    @admin.action(description="Export annotations JSONL of selected conversations")
    def export_annotations(self, request, queryset):
        return self._export(request, queryset, "annotations")


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    """Raw messages, for superusers only; every showing of content is audited."""

    list_display = ("id", "conversation_id", "role", "status", "model", "created_at")
    list_filter = ("role", "status", "model", "created_at")
    search_fields = ("content", "error", "error_detail")
    readonly_fields = ("conversation", *MESSAGE_FIELDS)
    fields = readonly_fields

    def has_module_permission(self, request) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # Removing one node would cut the tree: delete the conversation.

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        _audit_search(request, response, "messages")
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        message = review_selectors.message_with_conversation(message_id=object_id)
        if response.status_code == 200 and message is not None:
            review_services.audit_record(
                actor=request.user,
                action=AuditEntry.Action.VIEW_MESSAGE,
                message=message,
                request=request,
            )
        return response
