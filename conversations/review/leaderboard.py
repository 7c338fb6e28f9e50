"""Staff's leaderboard, in the admin: models ranked by users' compare choices, across
every user's conversations (the maths: compare/leaderboard.py; everyone's page when
CHAT_LEADERBOARD_PUBLIC is on: compare/leaderboard_views.py)."""

from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET

from ..compare import leaderboard_views
from . import permissions
from .admin_pages import admin_page, reviewer_view


@reviewer_view(permissions.can_see_dashboard)
@require_GET
def leaderboard_view(request: HttpRequest) -> TemplateResponse:
    """The table for the filters in the query string (persona, tag, project, since, until)."""
    return admin_page(
        request,
        "admin/review/leaderboard.html",
        {
            "title": "Leaderboard",
            # The admin's app list beside a wide table leaves a phone no room (as People).
            "is_nav_sidebar_enabled": False,
            **leaderboard_views.board(request, viewer_id=None),
        },
    )
