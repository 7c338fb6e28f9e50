"""Settings for the test suite: the real settings with test-only secrets and fast hashing."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key")
# Loopback only, as `make run`; Django's test client adds its own "testserver" at run time.
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
# The test client and the test servers speak plain http.
os.environ.setdefault("DJANGO_HTTPS", "0")

from .settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Static files come straight from the source folders: no collectstatic in tests.
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
# Titles are a second upstream request: tests that want one turn them on.
CHAT_AUTO_TITLES = False
