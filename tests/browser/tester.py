"""The account the browser tests share on one site, "tester": signed up by the first test
that needs it, signed in by the others (or by a test run alone, which signs up first)."""

from tests.browser_support import connected


def sign_in(page, site):
    """Sign in as the tests' user, signing up first when running alone."""
    from playwright.sync_api import expect

    page.goto(f"{site}/accounts/login/")
    page.fill("#id_username", "tester")
    page.fill("#id_password", "a-Strong-pass-42")
    page.click("button[type=submit]")
    if page.url.endswith("/accounts/login/"):
        sign_up(page, site)
    expect(page).to_have_url(f"{site}/")
    connected(page)


def sign_up(page, site):
    """Create the tests' user through the sign-up page."""
    page.goto(f"{site}/accounts/signup/")
    page.fill("#id_username", "tester")
    page.fill("#id_password1", "a-Strong-pass-42")
    page.fill("#id_password2", "a-Strong-pass-42")
    page.click("button[type=submit]")
