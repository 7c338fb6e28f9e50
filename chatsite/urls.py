from django.contrib import admin
from django.urls import include, path

from conversations.web import people_views
from conversations.web.settings_views import password_change_elsewhere
from conversations.web.views import SignInView

urlpatterns = [
    # Review pages live inside the admin (its sign-in, look and permissions).
    path("admin/review/", include("conversations.review.admin_urls")),
    # Django's password-change pages check the old password unthrottled: Settings' form
    # (under the sign-in throttle) is the one place a password changes.
    path("admin/password_change/", password_change_elsewhere),
    # Staff's "Users and groups", inside the admin (its sign-in and look).
    path("admin/people/", people_views.people_view, name="people"),
    path(
        "admin/people/<int:user_id>/sign-out",
        people_views.sign_out_everywhere,
        name="people-sign-out",
    ),
    path("accounts/password_change/", password_change_elsewhere),
    path("admin/", admin.site.urls),
    path("accounts/login/", SignInView.as_view(), name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("conversations.review.urls")),
    path("", include("conversations.web.urls")),
]
