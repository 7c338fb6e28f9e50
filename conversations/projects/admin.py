"""The admin's projects: read, for support; users make and edit their own in the app."""

from django.contrib import admin

from .models import Project


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "default_persona", "default_model", "updated_at")
    search_fields = ("name", "owner__username")
    raw_id_fields = ("owner", "default_persona")
