"""The documents say what the code does: every setting in README's table, and the nginx
example's body caps equal to the app's."""

import re
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent


def test_every_environment_variable_is_in_the_readme_table():
    source = (ROOT / "chatsite" / "settings.py").read_text()
    names = set(re.findall(r'env(?:\.get|_bool|_list)?\(\s*"([A-Z_]+)"', source))
    names |= set(re.findall(r'env\["([A-Z_]+)"\]', source))
    table = (ROOT / "README.md").read_text()
    missing = sorted(name for name in names if f"| `{name}`" not in table)
    assert not missing, f"settings without a row in README's configuration table: {missing}"


def test_the_nginx_example_caps_bodies_as_the_app_does():
    conf = (ROOT / "docs" / "nginx.conf").read_text()
    server_level = re.search(r"server_name[^\n]*\n\n    client_max_body_size (\d+);", conf)
    accounts = re.search(r"location /accounts/ \{\s*client_max_body_size (\d+);", conf)
    imports = re.search(r"location = /import/ \{\s*client_max_body_size (\d+);", conf)
    uploads = re.search(r"location = /api/files \{\s*client_max_body_size (\d+);", conf)
    assert int(server_level.group(1)) == settings.HTTP_MAX_BODY
    assert int(accounts.group(1)) == settings.HTTP_MAX_BODY_ANONYMOUS
    assert int(imports.group(1)) == settings.HTTP_MAX_BODY_IMPORT
    assert int(uploads.group(1)) == settings.HTTP_MAX_BODY_FILES
    assert "proxy_set_header Upgrade $http_upgrade;" in conf
    assert "server 127.0.0.1:8000;" in conf
