"""Who may do what in review. Superusers hold every permission; everyone else needs staff
status and the permission itself (the Reviewers group has exactly what review needs)."""

from django.contrib.auth.models import AbstractBaseUser

REVIEW = "review.review_conversations"
OPEN_ANY = "review.open_any_conversation"
DASHBOARD = "review.view_dashboard"
EXPORT = "review.export_datasets"


def _staff_with(user: AbstractBaseUser, perm: str) -> bool:
    return bool(user.is_active and user.is_staff and user.has_perm(perm))


def can_review(user: AbstractBaseUser) -> bool:
    """May read queued conversations' transcripts and work the queue."""
    return _staff_with(user, REVIEW)


def can_open_any(user: AbstractBaseUser) -> bool:
    """May open conversations that are not queued (every opening is audited)."""
    return can_review(user) and user.has_perm(OPEN_ANY)


def can_see_dashboard(user: AbstractBaseUser) -> bool:
    return _staff_with(user, DASHBOARD)


def can_export(user: AbstractBaseUser) -> bool:
    return _staff_with(user, EXPORT)


def can_annotate(user: AbstractBaseUser) -> bool:
    """May score replies, write notes and corrections (on conversations they may open)."""
    return can_review(user) and user.has_perms(
        [
            "review.add_score",
            "review.change_score",
            "review.add_reviewnote",
            "review.add_correction",
        ]
    )


def can_work_queue(user: AbstractBaseUser) -> bool:
    """May add to the queue, assign items and change their status."""
    return can_review(user) and user.has_perms(["review.add_queueitem", "review.change_queueitem"])


def can_read_audit(user: AbstractBaseUser) -> bool:
    """The audit log is for superusers only."""
    return bool(user.is_active and user.is_superuser)
