"""The users' side of review: feedback, reports and the privacy page."""

from django.urls import path

from . import user_views

urlpatterns = [
    path("messages/<int:message_id>/feedback", user_views.message_feedback, name="feedback"),
    path(
        "conversations/<int:conversation_id>/report",
        user_views.conversation_report,
        name="report",
    ),
    path("settings/privacy/", user_views.privacy, name="privacy"),
    path("settings/privacy/datasets", user_views.dataset_opt_out, name="dataset-opt-out"),
]
