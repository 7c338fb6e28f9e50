"""A Content-Security-Policy for every response: model output can never run script."""

from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        # Remote images would be fetched on sight and could leak a conversation.
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def policy() -> str:
    """The policy; with single sign-on, its sign-in and sign-out forms may go on to the
    provider (browsers apply form-action to the redirects a form's answer makes)."""
    if not settings.SSO_ENABLED:
        return CSP
    issuer = urlsplit(settings.OIDC_ISSUER)
    return CSP.replace(
        "form-action 'self'", f"form-action 'self' {issuer.scheme}://{issuer.netloc}"
    )


class ContentSecurityPolicyMiddleware:
    """Adds the site's Content-Security-Policy header."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", policy())
        return response
