"""Review pages inside the admin, at /admin/review/…"""

from django.urls import path

from . import admin_views, agreement, dashboard, datasets, item_views, leaderboard

app_name = "review"

urlpatterns = [
    path("transcript/<int:conversation_id>/", admin_views.transcript_view, name="transcript"),
    path("transcript/<int:conversation_id>/score", admin_views.score, name="score"),
    path("transcript/<int:conversation_id>/note", admin_views.note, name="note"),
    path("transcript/<int:conversation_id>/correction", admin_views.correction, name="correction"),
    path("transcript/<int:conversation_id>/queue", admin_views.queue_add, name="queue-add"),
    path(
        "transcript/<int:conversation_id>/queue/<int:item_id>",
        admin_views.queue_update,
        name="queue-update",
    ),
    path("queue/<int:item_id>/", item_views.item_view, name="queue-item"),
    path("queue/<int:item_id>/lock", item_views.item_lock, name="queue-item-lock"),
    path("queue/<int:item_id>/close", item_views.item_close, name="queue-item-close"),
    path("dashboard/", dashboard.dashboard_view, name="dashboard"),
    path("datasets/", datasets.datasets_view, name="datasets"),
    path("agreement/", agreement.agreement_view, name="agreement"),
    path("leaderboard/", leaderboard.leaderboard_view, name="leaderboard"),
]
