"""A module's test provider on loopback, with the test client's app as its client."""

import pytest

from tests.oidc_provider import client, start_provider
from tests.sso.support import ACCOUNTS, APP, use_provider


@pytest.fixture(scope="module")
def provider(tmp_path_factory):
    log = tmp_path_factory.mktemp("oidc") / "provider.log"
    started = start_provider(
        clients=[client(app_url=APP, backchannel=False)], accounts=ACCOUNTS, log_path=log
    )
    yield started
    started.stop()


@pytest.fixture
def sso(settings, provider):
    """The app pointed at the module's provider; its accounts as they started."""
    use_provider(settings, provider.issuer)
    for account, claims in ACCOUNTS.items():
        provider.set_account(account, claims)
    return provider
