"""Single sign-on and two-factor sign-in in Chromium, against the app as deployed and the
test OpenID provider: the whole flow, its group claim making a Reviewer, signing out
closing the socket; staff who must enrol a second factor before the admin opens."""

import os
import subprocess
import sys
import time

import pytest
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

from tests.a11y import shoot
from tests.browser_support import PAGE_ERRORS, PASSWORD, connected, django, refused_by_csp
from tests.live_server import ROOT, free_port, start_server
from tests.oidc_provider import client as provider_client
from tests.oidc_provider import start_provider
from tests.sso.support import ACCOUNTS

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}


def start_app(upstream, tmp, port: int, **environ):
    env = {
        "DJANGO_SETTINGS_MODULE": "chatsite.settings_test",
        "DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}",
        "LLM_BASE_URL": upstream.url,
        "LLM_API_KEY": "sk-browser-secret",
        "LLM_DEFAULT_MODEL": "test-model",
        "REDIS_URL": "",
        **environ,
    }
    upstream.models = {"object": "list", "data": [{"id": "test-model"}]}
    run = {"cwd": ROOT, "env": {**os.environ, **env}, "check": True}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], **run)
    server = start_server(env, tmp / "server.log", port=port)
    server.env = env
    # An administrator first: the provider's users are then ordinary accounts.
    django(
        server,
        "from django.contrib.auth.models import User; "
        f"User.objects.create_superuser('root', password={PASSWORD!r}); print('null')",
    )
    return server


@pytest.fixture(scope="module")
def sso_site(upstream, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sso-site")
    port = free_port()
    provider = start_provider(
        clients=[provider_client(app_url=f"http://127.0.0.1:{port}")],
        accounts=ACCOUNTS,
        log_path=tmp / "provider.log",
    )
    server = start_app(
        upstream,
        tmp,
        port,
        OIDC_ISSUER=provider.issuer,
        OIDC_CLIENT_ID="chat",
        OIDC_CLIENT_SECRET="chat-secret",
        OIDC_SCOPES="openid profile email groups",
        OIDC_PROVIDER_NAME="Test provider",
        OIDC_GROUP_MAP="chat-reviewers=Reviewers",
        OIDC_STAFF_GROUPS="chat-staff",
    )
    yield server, provider
    server.stop()
    provider.stop()


def watched_context(browser, **options):
    """A browser context (tabs sharing cookies) whose pages report script errors and
    anything the CSP refused, as the other browser tests' pages do."""
    context = browser.chromium.new_context(**options)

    def watch(page) -> None:
        page.on("pageerror", lambda error: PAGE_ERRORS.append(str(error)))
        page.on("console", refused_by_csp)

    context.on("page", watch)
    return context


def test_single_sign_on_makes_a_reviewer_and_signing_out_closes_the_socket(sso_site, browser):
    server, provider = sso_site
    base = server.url
    context = watched_context(browser, viewport=PHONE)
    page = context.new_page()
    page.goto(f"{base}/accounts/login/")
    shoot(page, "sso-sign-in-phone")
    page.set_viewport_size(DESKTOP)
    shoot(page, "sso-sign-in")
    # By keyboard: the provider's button is the first control after the skip link.
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Sign in with Test provider"
    page.keyboard.press("Enter")
    page.wait_for_url(f"{provider.issuer}/interaction/**")
    page.fill("#login", "rita")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    connected(page)
    rita = django(
        server,
        "import json; from django.contrib.auth.models import User; "
        "u = User.objects.get(username='rita'); "
        "print(json.dumps([list(u.groups.values_list('name', flat=True)), u.is_staff, "
        "u.is_superuser, u.socialaccount_set.get().uid]))",
    )
    assert rita == [["Reviewers"], True, False, f"{provider.issuer}#rita"]
    # A Reviewer: the admin opens on the review work, and nothing else.
    admin = page.context.new_page()
    admin.goto(f"{base}/admin/")
    assert admin.locator("text=Review queue").count() >= 1
    assert admin.locator("a[href='/admin/auth/user/']").count() == 0
    admin.close()
    # A second tab of the same session, its socket open.
    other = page.context.new_page()
    other.goto(f"{base}/")
    connected(other)
    page.click("#logout button[type=submit]")
    page.wait_for_url(f"{provider.issuer}/session/end**")
    # The server closed the other tab's socket (4401): the page goes to sign in.
    other.wait_for_url(f"{base}/accounts/login/**")
    page.click("button[value=yes]")
    page.wait_for_url(f"{base}/accounts/login/**")
    page.goto(f"{base}/settings/")
    assert page.url.startswith(f"{base}/accounts/login/")
    context.close()


@pytest.fixture(scope="module")
def strict_site(upstream, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("strict-site")
    server = start_app(upstream, tmp, free_port(), CHAT_REQUIRE_2FA_FOR_STAFF="1")
    django(
        server,
        "from django.contrib.auth.models import User; "
        f"User.objects.create_user('sam', password={PASSWORD!r}, is_staff=True); print('null')",
    )
    yield server
    server.stop()


def code_now(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def test_staff_enrol_a_second_factor_before_the_admin_opens(strict_site, browser):
    base = strict_site.url
    page = browser.new_page(viewport=DESKTOP)
    page.goto(f"{base}/accounts/login/?next=/admin/")
    page.fill("#id_username", "sam")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/accounts/2fa/")
    assert "Staff accounts must set up two-factor sign-in first." in page.content()
    shoot(page, "two-factor-enrol")
    for elsewhere in ("/admin/", "/", "/settings/"):
        page.goto(f"{base}{elsewhere}")
        assert page.url == f"{base}/accounts/2fa/", elsewhere
    page.click("text=Set up an authenticator app")
    page.wait_for_url(f"{base}/accounts/2fa/totp/activate/")
    shoot(page, "two-factor-totp")
    secret = page.inner_text("#totp-secret").strip()
    page.fill("input[name=code]", code_now(secret))
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/accounts/2fa/")
    page.goto(f"{base}/admin/")
    assert page.url == f"{base}/admin/"
    assert "Site administration" in page.content()
    # A new sign-in asks for the code before any session exists; a phone, by keyboard.
    second = browser.new_page(viewport=PHONE)
    second.goto(f"{base}/accounts/login/?next=/admin/")
    second.fill("#id_username", "sam")
    second.fill("#id_password", PASSWORD)
    second.keyboard.press("Enter")
    second.wait_for_url(f"{base}/accounts/2fa/authenticate/")
    shoot(second, "two-factor-code-phone")
    valid = {
        format_hotp_value(hotp_value(secret, int(time.time()) // 30 + i)) for i in (-1, 0, 1, 2)
    }
    second.fill(
        "input[name=code]", next(c for c in ("000000", "111111", "222222") if c not in valid)
    )
    second.keyboard.press("Enter")
    second.wait_for_selector("text=That code is not right")
    second.fill("input[name=code]", code_now(secret))
    second.keyboard.press("Enter")
    second.wait_for_url(f"{base}/admin/")
    events = django(
        strict_site,
        "import json; from django.contrib.admin.models import LogEntry; "
        "print(json.dumps(list(LogEntry.objects.order_by('pk').values_list('change_message', flat=True))))",
    )
    assert events[0] == "Added a second factor (TOTP Authenticator)."
    assert "A wrong second-factor code was entered." in events
    page.close()
    second.close()
