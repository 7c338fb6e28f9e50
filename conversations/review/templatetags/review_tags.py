"""Template tags: the privacy notice (for any settings page) and the admin index's queue box."""

from django import template

from ...deletion import selectors as deletion_selectors
from .. import permissions, selectors

register = template.Library()


@register.inclusion_tag("review/privacy_notice.html", takes_context=True)
def privacy_notice(context) -> dict:
    """Which of the user's conversations staff can read, how long they are kept, and the
    dataset opt-out form."""
    request = context["request"]
    user = request.user
    return {
        "request": request,
        "csrf_token": context.get("csrf_token"),
        "opted_out": selectors.opted_out(user=user),
        "readable": selectors.readable_by_staff(user=user),
        "retention": deletion_selectors.retention_for(user=user),
    }


@register.inclusion_tag("admin/review/index_panel.html", takes_context=True)
def review_panel(context) -> dict:
    """Open and in-review counts, by reason, with links for those who may review."""
    user = context["request"].user
    if not permissions.can_review(user):
        return {"show": False}
    return {
        "show": True,
        "counts": selectors.queue_counts(user=user),
        "dashboard": permissions.can_see_dashboard(user),
        "datasets": permissions.can_export(user),
        "audit": permissions.can_read_audit(user),
    }
