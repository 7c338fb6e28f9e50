"""Share links' addresses: the owner's JSON endpoints, and the shared pages under /s/."""

from django.urls import path

from . import views

urlpatterns = [
    path("api/conversations/<int:conversation_id>/shares", views.share_create, name="share-create"),
    path("api/shares/<int:link_id>/revoke", views.share_revoke, name="share-revoke"),
    path("api/shares/<int:link_id>", views.share_revoke, name="share-delete"),
    path("s/<str:token>", views.shared_page, name="shared-page"),
    path("s/<str:token>/continue", views.shared_continue, name="shared-continue"),
    path("s/<str:token>/files/<str:attachment_id>", views.shared_file, name="shared-file"),
    path(
        "s/<str:token>/files/<str:attachment_id>/view",
        views.shared_file_view,
        name="shared-file-view",
    ),
]
