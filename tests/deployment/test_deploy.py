"""Production settings from the environment: `check --deploy` clean, and sign-in behind a TLS proxy."""

import re
import secrets

import httpx2
import pytest

from tests.live_server import manage, server_env, start_server

SITE = "chat.example.com"


def production_env(tmp_path, **overrides: str) -> dict[str, str]:
    """The real settings module, as a deployment behind a TLS-terminating proxy sets it."""
    env = server_env(tmp_path)
    for name in ("DJANGO_DEBUG", "DJANGO_HTTPS", "DJANGO_SECURE_SSL_REDIRECT"):
        env.pop(name, None)
    return env | {
        "DJANGO_SETTINGS_MODULE": "chatsite.settings",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": SITE,
        "DJANGO_SECURE_PROXY_SSL_HEADER": "1",
        **overrides,
    }


def test_check_deploy_is_clean_in_a_production_environment(tmp_path):
    env = production_env(tmp_path, DJANGO_HSTS_INCLUDE_SUBDOMAINS="1", DJANGO_HSTS_PRELOAD="1")
    result = manage(env, "check", "--deploy", "--fail-level", "WARNING", check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def security_settings(env) -> str:
    code = (
        "from django.conf import settings as s; print(s.SESSION_COOKIE_SECURE,"
        " s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS,"
        " s.SECURE_PROXY_SSL_HEADER)"
    )
    return manage(env, "shell", "-v0", "-c", code).stdout.strip()


def test_https_is_on_for_a_public_host_and_off_for_make_run(tmp_path):
    public = production_env(tmp_path)
    assert security_settings(public) == (
        "True True True 31536000 ('HTTP_X_FORWARDED_PROTO', 'https')"
    )
    # `make run`: no allowed hosts set, so loopback only, plain http keeps working.
    local = production_env(tmp_path)
    for name in ("DJANGO_ALLOWED_HOSTS", "DJANGO_SECURE_PROXY_SSL_HEADER"):
        local.pop(name)
    assert security_settings(local) == "False False False 0 None"
    assert security_settings(public | {"DJANGO_HTTPS": "0"}) == (
        "False False False 0 ('HTTP_X_FORWARDED_PROTO', 'https')"
    )
    assert security_settings(public | {"DJANGO_HSTS_SECONDS": "3600"}).endswith(
        "True 3600 ('HTTP_X_FORWARDED_PROTO', 'https')"
    )


@pytest.fixture
def proxied_site(tmp_path):
    # The test settings serve static files without collectstatic; they turn HTTPS off by
    # default, so it is turned on here as a deployment would (the default is tested above).
    env = production_env(
        tmp_path,
        DJANGO_SETTINGS_MODULE="chatsite.settings_test",
        DJANGO_HTTPS="1",
        DJANGO_SUPERUSER_PASSWORD="a-Strong-pass-42",
    )
    manage(env, "migrate", "-v0")
    manage(env, "createsuperuser", "--noinput", "--username", "boss", "--email", "b@example.com")
    server = start_server(env, tmp_path / "daphne.log")
    yield server
    server.stop()


def cookie(response: httpx2.Response, name: str) -> tuple[str, str]:
    """A cookie's value and attributes from Set-Cookie (kept by hand: they are Secure)."""
    for header in response.headers.get_list("set-cookie"):
        match = re.match(rf"{name}=([^;]*)(.*)", header)
        if match:
            return match.group(1), match.group(2)
    raise AssertionError(f"no {name} cookie in {response.headers}")


def test_sign_in_behind_a_tls_proxy(proxied_site):
    forwarded = {"Host": SITE, "X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    with httpx2.Client(base_url=proxied_site.url, timeout=30) as client:
        # Plain http reaching the app is sent to https, with HSTS on the secure answer.
        plain = client.get("/accounts/login/", headers={"Host": SITE})
        assert plain.status_code == 301
        assert plain.headers["location"] == f"https://{SITE}/accounts/login/"

        page = client.get("/accounts/login/", headers=forwarded)
        assert page.status_code == 200
        assert page.headers["strict-transport-security"] == "max-age=31536000"
        csrf, attributes = cookie(page, "csrftoken")
        assert "Secure" in attributes
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)

        answer = client.post(
            "/accounts/login/",
            headers=forwarded | {"Origin": f"https://{SITE}", "Cookie": f"csrftoken={csrf}"},
            data={"csrfmiddlewaretoken": token, "username": "boss", "password": "a-Strong-pass-42"},
        )
        assert answer.status_code == 302, answer.text[:500]
        assert answer.headers["location"] == "/"
        session, attributes = cookie(answer, "sessionid")
        assert "Secure" in attributes and "HttpOnly" in attributes

        chat = client.get("/", headers=forwarded | {"Cookie": f"sessionid={session}"})
        assert chat.status_code == 200 and 'id="boot"' in chat.text

        # Another site's page cannot post the form, proxy or not.
        forged = client.post(
            "/accounts/login/",
            headers=forwarded | {"Origin": "https://evil.example", "Cookie": f"csrftoken={csrf}"},
            data={"csrfmiddlewaretoken": token, "username": "boss", "password": "x"},
        )
        assert forged.status_code == 403
