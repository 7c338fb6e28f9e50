"""The theme on every page, from the first byte: no flash of the wrong colours.

The user's choice is kept in their settings (server-side) and rendered as
`<html data-theme="…">` by base.html, so the page is right before any script or style
loads. A cookie mirrors it for the pages a signed-out visitor sees (sign-in, sign-up):
the same colours after signing out as before.
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from ..accounts import selectors as account_selectors
from ..accounts.models import UserSettings

THEME_COOKIE = "theme"
THEMES = set(UserSettings.Theme.values)
ONE_YEAR = 365 * 24 * 3600


def settings_of(request: HttpRequest) -> UserSettings:
    """The signed-in user's settings, read once per request."""
    found = getattr(request, "_user_settings", None)
    if found is None:
        found = request._user_settings = account_selectors.user_settings(user=request.user)
    return found


def theme(request: HttpRequest) -> dict:
    """Template context: `theme`, one of system, light or dark."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        chosen = settings_of(request).theme
        request.theme_to_remember = chosen  # The middleware mirrors it in the cookie.
    else:
        chosen = request.COOKIES.get(THEME_COOKIE, UserSettings.Theme.SYSTEM)
    return {"theme": chosen if chosen in THEMES else UserSettings.Theme.SYSTEM}


def remember_theme(response: HttpResponse, chosen: str) -> HttpResponse:
    """Set the theme cookie (not secret, but nothing for scripts to read either)."""
    response.set_cookie(
        THEME_COOKIE,
        chosen,
        max_age=ONE_YEAR,
        samesite="Lax",
        httponly=True,
        secure=settings.SESSION_COOKIE_SECURE,
    )
    return response


class ThemeCookieMiddleware:
    """Keeps the cookie in step with the signed-in user's theme on the pages they see."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        chosen = getattr(request, "theme_to_remember", None)
        if chosen and request.COOKIES.get(THEME_COOKIE) != chosen:
            remember_theme(response, chosen)
        return response
