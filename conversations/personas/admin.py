"""The admin's personas: shared ones staff manage, and any user's."""

from django.contrib import admin

from . import services as persona_services
from .models import Persona


@admin.register(Persona)
class PersonaAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "model", "version", "tool_choice", "updated_at")
    list_filter = ("owner", "model")
    search_fields = ("name", "description", "system_prompt")
    readonly_fields = ("version",)

    def save_model(self, request, obj, form, change) -> None:
        # Staff edits go through the same service as users' edits, so they version alike.
        fields = {name: getattr(obj, name) for name in (*persona_services.PERSONA_FIELDS, "owner")}
        if change:
            saved = persona_services.persona_update(
                persona=Persona.objects.get(pk=obj.pk), **fields
            )
        else:
            saved = persona_services.persona_create(**fields)
        obj.pk, obj.version = saved.pk, saved.version
