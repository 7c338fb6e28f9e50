"""Staff review: conversations with their messages, read-only; personas editable."""

from django.contrib import admin

from . import services
from .models import Conversation, Message, ModelInfo, Persona

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


class MessageInline(admin.StackedInline):
    model = Message
    fields = MESSAGE_FIELDS
    readonly_fields = MESSAGE_FIELDS
    extra = 0
    can_delete = False
    show_change_link = True
    fk_name = "conversation"

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ("title", "owner", "model", "persona", "created_at", "updated_at")
    list_filter = ("owner", "model", "persona", "messages__status", "created_at")
    search_fields = ("title", "messages__content")
    readonly_fields = (
        "owner",
        "title",
        "persona",
        "model",
        "current_leaf",
        "created_at",
        "updated_at",
    )
    date_hierarchy = "created_at"
    inlines = [MessageInline]
    list_select_related = ("owner", "persona")

    def has_add_permission(self, request) -> bool:
        return False

    def get_search_results(self, request, queryset, search_term):
        queryset, _ = super().get_search_results(request, queryset, search_term)
        # Searching message text joins messages: show each conversation once.
        return queryset.distinct(), False


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("id", "conversation", "role", "status", "model", "created_at")
    list_filter = ("role", "status", "model", "created_at")
    search_fields = ("content", "error", "error_detail")
    readonly_fields = ("conversation", *MESSAGE_FIELDS)
    fields = readonly_fields
    list_select_related = ("conversation",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Persona)
class PersonaAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "model", "version", "tool_choice", "updated_at")
    list_filter = ("owner", "model")
    search_fields = ("name", "description", "system_prompt")
    readonly_fields = ("version",)

    def save_model(self, request, obj, form, change) -> None:
        # Staff edits go through the same service as users' edits, so they version alike.
        fields = {name: getattr(obj, name) for name in (*services.PERSONA_FIELDS, "owner")}
        if change:
            saved = services.persona_update(persona=Persona.objects.get(pk=obj.pk), **fields)
        else:
            saved = services.persona_create(**fields)
        obj.pk, obj.version = saved.pk, saved.version


@admin.register(ModelInfo)
class ModelInfoAdmin(admin.ModelAdmin):
    list_display = (
        "model_id",
        "display_name",
        "context_window",
        "supports_tools",
        "enabled",
        "available",
    )
    list_editable = ("display_name", "context_window", "supports_tools", "enabled")
    list_filter = ("enabled", "available", "supports_tools")
    search_fields = ("model_id", "display_name")
