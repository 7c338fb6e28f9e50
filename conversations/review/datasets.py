"""Dataset downloads: JSONL from a filtered set of conversations, streamed a chunk at a time.

An export draws only on conversations its exporter may open as transcripts
(selectors.conversations_for): the permission to export is not one to read more. Users
who opted out are left out before anything is read. Every export is audited: one entry
for the export (kind, filters, how many conversations), then one per conversation that
gave lines, written before those lines are sent.
"""

import json
from collections.abc import AsyncIterator

from asgiref.sync import sync_to_async
from django import forms
from django.contrib import messages
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from ..models import Conversation
from . import exports, permissions, selectors, services
from .admin_pages import admin_page, reviewer_view
from .models import AuditEntry

CHUNK = 200  # Conversations read per step: bounds memory whatever the export's size.
MAX_CONVERSATIONS = 50_000


class DatasetForm(forms.Form):
    kind = forms.ChoiceField(choices=[(k, label) for k, (label, _) in exports.KINDS.items()])
    since = forms.DateField(
        required=False, label="Active since", widget=forms.DateInput({"type": "date"})
    )
    until = forms.DateField(
        required=False, label="Active until", widget=forms.DateInput({"type": "date"})
    )
    model = forms.CharField(required=False, max_length=200, label="Model (exact)")
    persona = forms.ModelChoiceField(selectors.dataset_personas(), required=False)

    def conversations(self) -> QuerySet[Conversation]:
        data = self.cleaned_data
        return selectors.dataset_conversations(
            since=data["since"], until=data["until"], model=data["model"], persona=data["persona"]
        )

    def description(self) -> dict:
        data = self.cleaned_data
        return {
            "since": data["since"].isoformat() if data["since"] else None,
            "until": data["until"].isoformat() if data["until"] else None,
            "model": data["model"] or None,
            "persona": data["persona"].pk if data["persona"] else None,
        }


def _chunk_lines(
    kind: str, ids: list[int], owners: dict[int, int], actor: AbstractBaseUser, export_id: int
) -> str:
    builder = exports.KINDS[kind][1]
    lines, seen = [], {}
    for conversation_id, line in builder(ids):
        seen[conversation_id] = owners[conversation_id]
        lines.append(json.dumps(line, ensure_ascii=False) + "\n")
    services.audit_record_many(
        actor=actor,
        action=AuditEntry.Action.EXPORT,
        conversations=seen.items(),
        detail={"kind": kind, "export": export_id},
    )
    return "".join(lines)


def download(
    request: HttpRequest, *, kind: str, queryset: QuerySet[Conversation], filters: dict
) -> HttpResponse | None:
    """Stream the dataset for those of these conversations the exporter may open; None
    when there are too many."""
    readable = selectors.conversations_for(user=request.user, queryset=queryset)
    rows = selectors.dataset_rows(queryset=readable, limit=MAX_CONVERSATIONS + 1)
    if len(rows) > MAX_CONVERSATIONS:
        return None
    owners = dict(rows)
    ids = [pk for pk, _ in rows]
    actor = request.user
    summary = services.audit_record(
        actor=actor,
        action=AuditEntry.Action.EXPORT,
        detail={"kind": kind, "filters": filters, "conversations": len(ids)},
        request=request,
    )

    async def lines() -> AsyncIterator[str]:
        for start in range(0, len(ids), CHUNK):
            text = await sync_to_async(_chunk_lines)(
                kind, ids[start : start + CHUNK], owners, actor, summary.pk
            )
            if text:
                yield text

    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response = StreamingHttpResponse(lines(), content_type="application/x-ndjson; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{kind}-{stamp}.jsonl"'
    response["Cache-Control"] = "no-store"
    return response


def _scope(user: AbstractBaseUser) -> str:
    """Which conversations this exporter's exports draw on, as the page says it."""
    if permissions.can_open_any(user):
        return "any"
    return "reviewable" if permissions.can_review(user) else "none"


@reviewer_view(permissions.can_export)
@require_http_methods(["GET", "POST"])
def datasets_view(request: HttpRequest) -> HttpResponse:
    """Choose a kind and filters, then download (POST, so the export is a deliberate act)."""
    form = DatasetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        response = download(
            request,
            kind=form.cleaned_data["kind"],
            queryset=form.conversations(),
            filters=form.description(),
        )
        if response is not None:
            return response
        messages.error(
            request, f"More than {MAX_CONVERSATIONS:,} conversations match: narrow the filters."
        )
    return admin_page(
        request,
        "admin/review/datasets.html",
        {
            "title": "Datasets",
            "form": form,
            "opted_out": selectors.dataset_opt_out_count(),
            "max": MAX_CONVERSATIONS,
            "scope": _scope(request.user),
        },
    )
