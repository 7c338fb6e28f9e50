"""Settings for the test suite: the real settings with test-only secrets and fast hashing."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key")
# Loopback only, as `make run`; Django's test client adds its own "testserver" at run time.
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
# The test client and the test servers speak plain http.
os.environ.setdefault("DJANGO_HTTPS", "0")

# Limits are raised for the suite (tests of a limit lower it); a server process started
# by a test takes the environment's values first.
for _name, _value in {
    "CHAT_MAX_RUNNING_TURNS": "1000",
    "CHAT_TURNS_PER_MINUTE": "100000",
    "CHAT_DAILY_TOKENS": "1000000000000",
    "CHAT_MAX_SOCKETS_PER_USER": "10000",
    "CHAT_SOCKET_FRAMES_PER_MINUTE": "100000",
    "CHAT_READS_PER_MINUTE": "100000",
    "CHAT_WRITES_PER_MINUTE": "100000",
    "CHAT_BULK_PER_HOUR": "100000",
    "CHAT_SIGNUPS_PER_HOUR_PER_ADDRESS": "100000",
}.items():
    os.environ.setdefault(_name, _value)

# Server processes a test starts run no scheduled deletions unless the test asks for them
# (they would write to a database the test is reading).
os.environ.setdefault("CHAT_PURGE_SECONDS", "0")

from .settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Titles are a second upstream request: tests that want one turn them on.
CHAT_AUTO_TITLES = False
