"""What every review page in the admin shares: the reviewer check, the admin's frame,
opening a conversation for review (404 exactly as for a missing id), auditing an opening
once a session, showing a transcript (its opening audited), and reading an id from a
request."""

from collections.abc import Callable
from functools import wraps

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from . import permissions, selectors, services, transcript
from .models import AuditEntry


def reviewer_view(check: Callable = permissions.can_review) -> Callable:
    """An admin view for staff who pass `check` (403 otherwise)."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def guarded(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not check(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return admin.site.admin_view(guarded)

    return decorate


def admin_page(request: HttpRequest, template: str, context: dict) -> TemplateResponse:
    """A page in the admin's frame: its header, navigation and styles."""
    return TemplateResponse(request, template, {**admin.site.each_context(request), **context})


def open_for_review(request: HttpRequest, conversation_id: int):
    conversation, reviewable = selectors.conversation_for_review(
        user=request.user, conversation_id=conversation_id
    )
    if conversation is None:
        raise Http404("No such conversation.")
    return conversation, reviewable


# Pages remembered per session so that each opening is audited once; the oldest go first.
SEEN_LIMIT = 500


def audit_once(request: HttpRequest, *, key: str) -> bool:
    """Whether this session has not opened `key` before (and remember that it has)."""
    seen = request.session.get("review_opened", [])
    if key in seen:
        return False
    request.session["review_opened"] = [*seen, key][-SEEN_LIMIT:]
    return True


def int_or_none(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def transcript_shown(
    request: HttpRequest,
    *,
    conversation,
    reviewable: bool,
    leaf_id: int | None,
    key: Callable[[list[int]], str],
    queue_item_id: int | None = None,
) -> transcript.Transcript:
    """A transcript page at the place the request names (`leaf_id`, and its `end` and
    `start`), 404 for a message not in the conversation; its opening audited once a
    session under `key(ids of the messages shown)`."""
    data = transcript.build(
        conversation=conversation,
        leaf_id=leaf_id,
        viewer_id=request.user.pk,
        end_id=int_or_none(request.GET.get("end")),
        start_id=int_or_none(request.GET.get("start")),
    )
    if data is None:
        raise Http404("No such message in this conversation.")
    shown = [e.message.pk for e in data.entries]
    if audit_once(request, key=key(shown)):
        services.audit_record(
            actor=request.user,
            action=AuditEntry.Action.VIEW_TRANSCRIPT,
            conversation=conversation,
            queue_item_id=queue_item_id,
            detail={
                "leaf": data.end_id,  # The last message shown (the leaf, on the newest page).
                "messages": shown,
                "queued": reviewable,
            },
            request=request,
        )
    return data
