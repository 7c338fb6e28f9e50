"""A database made before the app's models moved into their domain packages (73e14d8,
tests/fixtures/before_packages) migrates with today's code and keeps every row, and every
group and user keeps exactly the rights it had: no model changed its app or table."""

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

from django.apps import apps

from tests.live_server import ROOT

BEFORE = Path(__file__).resolve().parent / "fixtures" / "before_packages"

# Tables that models and migrations added since the fixture was made add rows to.
GROWS = {"auth_permission", "django_content_type", "django_migrations"}

RIGHTS = """
import json
from django.apps import apps
from django.contrib.auth.models import Group, User
from django.contrib.contenttypes.models import ContentType
def rights(perms):
    return sorted(f"{p.content_type.app_label}.{p.codename}" for p in perms)
print(json.dumps({
    "groups": {g.name: rights(g.permissions.all()) for g in Group.objects.order_by("name")},
    "users": {u.username: rights(u.user_permissions.all()) for u in User.objects.order_by("username")},
    "user_groups": {u.username: sorted(u.groups.values_list("name", flat=True)) for u in User.objects.all()},
    "content_types": sorted(f"{c.app_label}.{c.model}" for c in ContentType.objects.all()),
}))
"""


def test_a_database_made_before_the_packages_keeps_every_row_and_right(tmp_path):
    manifest = json.loads((BEFORE / "manifest.json").read_text())
    database = tmp_path / "db.sqlite3"
    shutil.copy(BEFORE / "before.sqlite3", database)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "chatsite.settings_test",
        "DATABASE_URL": f"sqlite:///{database}",
        "REDIS_URL": "",
    }
    run = {"cwd": ROOT, "env": env, "capture_output": True, "text": True, "timeout": 120}
    migrated = subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], **run)
    assert migrated.returncode == 0, migrated.stderr
    with sqlite3.connect(database) as connection:
        for table, rows in manifest["rows"].items():
            (found,) = connection.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()
            if (
                table in GROWS
            ):  # Models added since bring their own; the old ones are checked below.
                assert found >= rows, f"{table}: {found} rows, {rows} before"
            else:
                assert found == rows, f"{table}: {found} rows, {rows} before"
    out = subprocess.run([sys.executable, "manage.py", "shell", "-c", RIGHTS], **run)
    assert out.returncode == 0, out.stderr
    now = json.loads(out.stdout.strip().splitlines()[-1])
    for key in ("groups", "users", "user_groups"):
        assert now[key] == manifest[key], key
    # Models added since (single sign-on, second factors) bring content types of their own.
    assert set(manifest["content_types"]) <= set(now["content_types"])


def test_every_model_keeps_its_app_and_table():
    models = sorted(
        f"{m._meta.app_label}.{m.__name__}:{m._meta.db_table}" for m in apps.get_models()
    )
    before = json.loads((BEFORE / "manifest.json").read_text())["models"]
    # Every model of then is still there under its app and table (newer ones may be added).
    assert set(before) <= set(models)


def test_the_models_match_their_migrations():
    """A model moved between modules changes nothing Django would migrate."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "chatsite.settings_test"}
    out = subprocess.run(
        [sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr
