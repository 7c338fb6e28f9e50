"""The admin's "MCP tool servers" (staff only): each entry with its status as this process
knows it, the tools it listed with their hints, which are offered and which trusted, and a
"Refresh tools" action. Stored headers are write-only: set, replaced or cleared, never
shown. Only a superuser may set `internal`. Who may use a server is an access rule ("Who
may use what"), as for models and personas."""

import re
from datetime import UTC, datetime

from asgiref.sync import async_to_sync
from django import forms
from django.contrib import admin, messages

from . import discovery
from .models import McpServer

MAX_HEADERS = 20
_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$")
_HOP_BY_HOP = {"host", "content-length", "connection", "transfer-encoding", "mcp-session-id"}


def hint_label(tool: discovery.DiscoveredTool) -> str:
    if tool.destructive:
        hint = "destructive"
    elif tool.read_only:
        hint = "read-only"
    else:
        hint = "may change things (no readOnlyHint)"
    return f"{tool.remote_name} ({hint})"


def parse_headers(text: str) -> dict[str, str]:
    """`Name: value` lines as headers; raises ValidationError (never quoting a value)."""
    headers: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        name, colon, value = line.partition(":")
        name, value = name.strip(), value.strip()
        if not colon or not _HEADER_NAME.match(name) or not value:
            raise forms.ValidationError(f"Line {number} is not 'Name: value'.")
        if name.lower() in _HOP_BY_HOP:
            raise forms.ValidationError(f"The header {name} is set by the client itself.")
        if any(ord(c) < 32 or ord(c) == 127 for c in value) or len(value) > 4000:
            raise forms.ValidationError(f"The value on line {number} is not a header value.")
        headers[name] = value
    if len(headers) > MAX_HEADERS:
        raise forms.ValidationError(f"At most {MAX_HEADERS} headers.")
    return headers


class McpServerForm(forms.ModelForm):
    new_headers = forms.CharField(
        label="Set headers",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off", "spellcheck": "false"}),
        help_text="One 'Name: value' per line, e.g. 'Authorization: Bearer …'. Replaces the "
        "stored headers; leave empty to keep them. Stored encrypted, never shown again.",
    )
    clear_headers = forms.BooleanField(label="Clear the stored headers", required=False)
    offer_all = forms.BooleanField(
        label="Offer every tool",
        required=False,
        initial=True,
        help_text="Every tool the server lists, tools it adds later too. Off: only those "
        "ticked below.",
    )
    offered = forms.MultipleChoiceField(
        label="Offered tools", required=False, widget=forms.CheckboxSelectMultiple
    )
    trusted = forms.MultipleChoiceField(
        label="Trusted tools",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Called without asking the user first. Otherwise a tool that is not "
        "declared read-only, or is declared destructive, asks for approval of each call.",
    )

    class Meta:
        model = McpServer
        fields = ("name", "prefix", "url", "timeout", "enabled", "internal")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        row = self.instance
        state = discovery.states().get(row.pk) if row.pk else None
        choices = {tool.remote_name: hint_label(tool) for tool in state.tools} if state else {}
        for name in [*(row.offered_tools or ()), *row.trusted_tools]:
            choices.setdefault(name, f"{name} (not listed now)")
        ordered = sorted(choices.items())
        self.fields["offered"].choices = ordered
        self.fields["trusted"].choices = ordered
        if row.pk:
            self.initial["offer_all"] = row.offered_tools is None
            self.initial["offered"] = row.offered_tools or []
            self.initial["trusted"] = row.trusted_tools
            stored = row.headers
            self.fields["new_headers"].help_text += (
                f" Stored now: {', '.join(sorted(stored))}." if stored else " None stored."
            )

    superuser = False  # Set per request by the admin (get_form).

    def clean(self) -> dict:
        data = super().clean()
        row = self.instance
        # An internal entry may reach private addresses: where it points is then a
        # superuser's decision as much as the flag is.
        if row.pk and row.internal and not self.superuser and data.get("url") != row.url:
            self.add_error("url", "Only a superuser may change the address of an internal server.")
        if not row.pk and McpServer.objects.count() >= discovery.MAX_SERVERS:
            raise forms.ValidationError(
                f"There are {discovery.MAX_SERVERS} servers, the most kept."
            )
        return data

    def clean_new_headers(self) -> dict[str, str] | None:
        text = self.cleaned_data.get("new_headers") or ""
        return parse_headers(text) if text.strip() else None

    def save(self, commit: bool = True) -> McpServer:
        row = self.instance
        data = self.cleaned_data
        if data.get("clear_headers"):
            row.headers = {}
        elif data.get("new_headers"):
            row.headers = data["new_headers"]
        row.offered_tools = None if data.get("offer_all") else sorted(data.get("offered") or [])
        row.trusted_tools = sorted(data.get("trusted") or [])
        return super().save(commit)


@admin.register(McpServer)
class McpServerAdmin(admin.ModelAdmin):
    form = McpServerForm
    list_display = ("name", "prefix", "url", "enabled", "internal", "status", "tool_count")
    list_filter = ("enabled", "internal")
    search_fields = ("name", "prefix", "url")
    readonly_fields = ("status", "tools_listed")
    actions = ("refresh_tools",)
    fieldsets = (
        (None, {"fields": ("name", "prefix", "url", "timeout", "enabled", "internal")}),
        ("Headers", {"fields": ("new_headers", "clear_headers")}),
        ("Tools", {"fields": ("status", "tools_listed", "offer_all", "offered", "trusted")}),
    )

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        # Only a superuser may let a server reach private addresses (see netguard.py); for
        # anyone else the field is shown but not taken from the request.
        form.base_fields["internal"].disabled = not request.user.is_superuser
        form.superuser = request.user.is_superuser
        return form

    @admin.display(description="status")
    def status(self, row: McpServer) -> str:
        state = discovery.states().get(row.pk)
        if not row.enabled:
            return "disabled"
        if state is None or state.reachable is None:
            return "not checked yet (in this process)"
        when = datetime.fromtimestamp(state.checked_at or 0, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        if state.reachable:
            return f"reachable, checked {when}"
        return f"unreachable at {when}: {state.error}"

    @admin.display(description="tools")
    def tool_count(self, row: McpServer) -> str:
        state = discovery.states().get(row.pk)
        if state is None or not state.reachable:
            return "-"
        return f"{len(state.offered_tools())} of {len(state.tools)}"

    @admin.display(description="tools listed")
    def tools_listed(self, row: McpServer) -> str:
        state = discovery.states().get(row.pk)
        if state is None or not state.tools:
            return "none (this process has no listing)"
        return ", ".join(f"{hint_label(t)} as {t.name}" for t in state.tools)

    @admin.action(description="Refresh tools")
    def refresh_tools(self, request, queryset) -> None:
        async_to_sync(discovery.refresh)()
        discovery.changed()  # The other processes too.
        states = discovery.states()
        for row in queryset:
            state = states.get(row.pk)
            if state is None:
                self.message_user(request, f"{row.name}: disabled.", messages.WARNING)
            elif state.reachable:
                self.message_user(request, f"{row.name}: {len(state.tools)} tools listed.")
            else:
                self.message_user(request, f"{row.name}: {state.error}", messages.ERROR)
