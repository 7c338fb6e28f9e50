"""Every response carries the Content-Security-Policy: scripts and styles from the site
itself only, no plugins, no framing, no remote images."""

import pytest

from conversations.web.middleware import CSP

pytestmark = pytest.mark.django_db


def directives(header: str) -> dict[str, str]:
    return dict(part.strip().split(" ", 1) for part in header.split(";"))


def test_the_policy_allows_nothing_inline_or_remote():
    policy = directives(CSP)
    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
    assert policy["object-src"] == "'none'" and policy["frame-ancestors"] == "'none'"
    assert policy["img-src"] == "'self' data:" and policy["base-uri"] == "'none'"
    assert "unsafe" not in CSP


def test_pages_errors_and_json_all_carry_it(client, user):
    for response in (
        client.get("/accounts/login/"),
        client.get("/no/such/page/"),
        client.get("/models.json"),  # 401 from a JSON endpoint.
    ):
        assert response["Content-Security-Policy"] == CSP, response.status_code
    client.force_login(user)
    assert client.get("/")["Content-Security-Policy"] == CSP
