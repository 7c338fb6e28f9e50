"""A real, certified OpenID Connect provider for the tests: node-oidc-provider, pinned in
tests/oidc/package-lock.json, installed with `npm ci` and started on a free loopback port
by tests/oidc/provider.mjs. Under CI=true a provider that cannot be installed or started
fails the run; elsewhere its tests skip."""

import json
import os
import shutil
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.live_server import free_port

HERE = Path(__file__).resolve().parent / "oidc"
STAMP = HERE / "node_modules" / ".installed-lock"
START_TIMEOUT = 30


def unavailable(reason: str):
    """Fail under CI (the provider must be there), skip elsewhere."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"The test OpenID provider is required under CI: {reason}")
    pytest.skip(f"The test OpenID provider is not available: {reason}")


def installed() -> None:
    """`npm ci` once per lockfile (the Makefile does it first; this covers bare pytest)."""
    lock = (HERE / "package-lock.json").read_text()
    if STAMP.exists() and STAMP.read_text() == lock:
        return
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        unavailable("node and npm are not installed")
    done = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund"], cwd=HERE, capture_output=True, text=True
    )
    if done.returncode != 0:
        unavailable(f"npm ci failed: {done.stderr[-2000:]}")
    STAMP.write_text(lock)


@dataclass
class OidcProvider:
    process: subprocess.Popen
    port: int
    log_path: Path

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def set_account(self, account_id: str, claims: dict | None) -> None:
        """Change (or, with None, remove) an account's claims at the provider."""
        request = urllib.request.Request(
            f"{self.issuer}/test/accounts/{account_id}",
            data=json.dumps(claims).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 204

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def client(
    *, app_url: str, client_id: str = "chat", secret: str = "chat-secret", backchannel=True
) -> dict:
    """A client registration for the app served at `app_url`."""
    metadata = {
        "client_id": client_id,
        "client_secret": secret,
        "redirect_uris": [f"{app_url}/accounts/oidc/sso/login/callback/"],
        "post_logout_redirect_uris": [f"{app_url}/accounts/login/"],
    }
    if backchannel:
        metadata["backchannel_logout_uri"] = f"{app_url}/accounts/oidc/sso/backchannel-logout/"
    return metadata


def start_provider(
    *,
    clients: list[dict],
    accounts: dict[str, dict],
    log_path: Path,
    clock_offset: int = 0,
    port: int | None = None,
) -> OidcProvider:
    """Start the provider and wait until it serves its discovery document."""
    installed()
    port = port or free_port()
    env = {
        **os.environ,
        "OIDC_TEST_PORT": str(port),
        "OIDC_TEST_CLIENTS": json.dumps(clients),
        "OIDC_TEST_ACCOUNTS": json.dumps(accounts),
        "OIDC_TEST_CLOCK_OFFSET": str(clock_offset),
    }
    log = open(log_path, "ab")  # The process writes to it until it stops.
    process = subprocess.Popen(
        ["node", str(HERE / "provider.mjs")], cwd=HERE, env=env, stdout=log, stderr=log
    )
    provider = OidcProvider(process, port, log_path)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            url = f"{provider.issuer}/.well-known/openid-configuration"
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return provider
        except OSError:
            time.sleep(0.1)
    provider.stop()
    unavailable("it did not start:\n" + provider.log()[-3000:])
    raise AssertionError("unreachable")
