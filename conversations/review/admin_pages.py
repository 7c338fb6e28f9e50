"""What every review page in the admin shares: the reviewer check, the admin's frame,
opening a conversation for review (404 exactly as for a missing id), auditing an opening
once a session, and reading an id from a request."""

from collections.abc import Callable
from functools import wraps

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from . import permissions, selectors


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
