"""Rate limits on pages and JSON endpoints: over one, the answer is 429 with Retry-After.

A view is limited per signed-in user, by the kind of work it does (limits/rate_limits.py): reads
for safe methods, and `unsafe` (writes, or bulk work) for the others. Apply it under the
sign-in check, so anonymous requests are turned away before they count.
"""

import inspect
from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from ..errors import retry_seconds
from . import rate_limits
from .rate_limits import Rate

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def too_many(request: HttpRequest, rate: Rate, wait: float, *, json: bool) -> HttpResponse:
    """The 429 answer: JSON for JSON endpoints, a page otherwise; Retry-After either way."""
    message = rate_limits.refusal_text(rate, wait)
    seconds = retry_seconds(wait)
    if json:
        response = JsonResponse(
            {
                "error": "rate_limited",
                "message": message,
                "retry_after": seconds,
                "limit": rate.name,
            },
            status=429,
        )
    else:
        response = render(request, "rate_limited.html", {"message": message}, status=429)
    response["Retry-After"] = str(seconds)
    return response


def rate_limit(
    safe: Rate | None, *, unsafe: Rate | None = None, json: bool = False
) -> Callable[[Callable], Callable]:
    """Limit a view: `safe` for GET and HEAD, `unsafe` (default: `safe`) for the rest."""
    unsafe = safe if unsafe is None else unsafe

    def rate_for(request: HttpRequest, user) -> Rate | None:
        if not user.is_authenticated:
            return None  # The view turns it away.
        return safe if request.method in SAFE_METHODS else unsafe

    def decorate(view: Callable) -> Callable:
        if inspect.iscoroutinefunction(view):

            @wraps(view)
            async def limited_async(request: HttpRequest, *args, **kwargs) -> HttpResponse:
                user = await request.auser()
                rate = rate_for(request, user)
                wait = await rate_limits.ahit(rate, user.pk) if rate else None
                if wait is not None:
                    return too_many(request, rate, wait, json=json)
                return await view(request, *args, **kwargs)

            return limited_async

        @wraps(view)
        def limited(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            rate = rate_for(request, request.user)
            wait = rate_limits.hit(rate, request.user.pk) if rate else None
            if wait is not None:
                return too_many(request, rate, wait, json=json)
            return view(request, *args, **kwargs)

        return limited

    return decorate
