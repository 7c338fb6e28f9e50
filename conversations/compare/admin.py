"""The admin's compare settings: the one row (pk 1) staff change to make blind mode the
default. Users' choices are review's (review/compare_admin.py): reading them needs review
rights."""

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from .models import CompareSettings


@admin.register(CompareSettings)
class CompareSettingsAdmin(admin.ModelAdmin):
    fields = ("blind_by_default",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # The one row is made on first opening.

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        # A list of one row says nothing: straight to the row, made the first time.
        if not self.has_view_or_change_permission(request):
            return super().changelist_view(request, extra_context)
        CompareSettings.objects.get_or_create(pk=1)
        return redirect(reverse("admin:conversations_comparesettings_change", args=[1]))
