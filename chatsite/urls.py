from allauth.account import views as allauth_account
from allauth.socialaccount import views as allauth_social
from django.contrib import admin
from django.urls import include, path

from conversations.compare import leaderboard_views
from conversations.web import people_views, sso_views, two_factor_views
from conversations.web.settings_views import password_change_elsewhere
from conversations.web.views import SignInView

# allauth's views that the app uses, one by one (its own sign-up, email and password pages
# would bypass the app's rules, so allauth.urls is not included).
allauth_urls = [
    path("login/", SignInView.as_view(), name="account_login"),
    path("logout/", sso_views.sign_out, name="account_logout"),
    path("reauthenticate/", allauth_account.reauthenticate, name="account_reauthenticate"),
    path("inactive/", allauth_account.account_inactive, name="account_inactive"),
    path("2fa/", include(two_factor_views.urlpatterns)),
    path("oidc/<str:provider_id>/login/", sso_views.login, name="openid_connect_login"),
    path(
        "oidc/<str:provider_id>/login/callback/",
        sso_views.callback,
        name="openid_connect_callback",
    ),
    path(
        "oidc/<str:provider_id>/backchannel-logout/",
        sso_views.backchannel_logout,
        name="sso-backchannel-logout",
    ),
    path("sso/reauthenticate/", sso_views.reauthenticate, name="sso-reauthenticate"),
    path("sso/cancelled/", allauth_social.login_cancelled, name="socialaccount_login_cancelled"),
    path("sso/error/", allauth_social.login_error, name="socialaccount_login_error"),
]

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
    # The admin signs in through the app's page: the same limits and the second factor.
    path("admin/login/", SignInView.as_view(), name="admin-login"),
    path("admin/", admin.site.urls),
    path("accounts/login/", SignInView.as_view(), name="login"),
    path("accounts/logout/", sso_views.sign_out, name="logout"),
    path("accounts/", include(allauth_urls)),
    path("accounts/", include("django.contrib.auth.urls")),
    # Compare choices ranked, for everyone signed in when CHAT_LEADERBOARD_PUBLIC is on.
    path("leaderboard/", leaderboard_views.leaderboard_view, name="leaderboard"),
    path("", include("conversations.review.urls")),
    path("", include("conversations.web.urls")),
]
