"""Staff's "Users and groups" page, inside the admin: people, not rows.

Per person: their groups, two-factor status, last sign-in, tokens this month against
their quota, and open sessions; staff who may change users can sign one out everywhere
(every session ends, every open chat tab closes). Staff who may view users see the page;
a reviewer, who may not, gets 403.
"""

from collections.abc import Callable
from functools import wraps

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from ..accounts import people
from ..accounts import services as account_services

MAX_SEARCH = 150


def staff_view(permission: str) -> Callable:
    """An admin view (its sign-in and staff check) for staff with `permission` (403 else)."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def guarded(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.has_perm(permission):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return admin.site.admin_view(guarded)

    return decorate


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@staff_view("auth.view_user")
@require_GET
def people_view(request: HttpRequest) -> TemplateResponse:
    """Everyone, a page at a time (?q= finds by name or email, ?group= keeps one group)."""
    search = request.GET.get("q", "").strip()[:MAX_SEARCH]
    group_id = _int(request.GET.get("group"))
    page, found = people.people(
        now=timezone.now(), search=search, group_id=group_id, page=request.GET.get("page") or 1
    )
    context = {
        **admin.site.each_context(request),
        "title": "Users and groups",
        # The admin's side list of every model is for its model pages: this one is wide.
        "is_nav_sidebar_enabled": False,
        "people": found,
        "page": page,
        "search": search,
        "group_id": group_id,
        "groups": people.groups(),
        "can_sign_out": request.user.has_perm("auth.change_user"),
    }
    return TemplateResponse(request, "admin/people.html", context)


@staff_view("auth.change_user")
@require_POST
def sign_out_everywhere(request: HttpRequest, user_id: int) -> HttpResponse:
    """End every session of one user and close their open chats; back to the page."""
    user = get_object_or_404(get_user_model(), pk=user_id)
    if user.is_superuser and not request.user.is_superuser:
        raise PermissionDenied  # Only a superuser signs a superuser out.
    ended = account_services.user_sessions_end(user_id=user.pk)
    messages.success(
        request,
        f"Signed {user.get_username()} out everywhere: "
        f"{ended} session{'s' if ended != 1 else ''} ended, and their open chats closed.",
    )
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = reverse("people")
    return redirect(back)
