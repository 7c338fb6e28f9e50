from django.contrib import admin
from django.urls import include, path

from conversations.web.views import SignInView

urlpatterns = [
    # Review pages live inside the admin (its sign-in, look and permissions).
    path("admin/review/", include("conversations.review.admin_urls")),
    path("admin/", admin.site.urls),
    path("accounts/login/", SignInView.as_view(), name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("conversations.review.urls")),
    path("", include("conversations.web.urls")),
]
