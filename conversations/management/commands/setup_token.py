"""Print a one-time setup token for creating the first (administrator) account."""

import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ...accounts import selectors as account_selectors
from ...accounts import services as account_services
from ...accounts import signup


class Command(BaseCommand):
    help = (
        "Print a new one-time setup token for signing up the first account, which becomes "
        "the administrator. Any earlier token stops working. With --notice, print what the "
        "server says at start-up instead (nothing once an account exists)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--file", help="write the token to this file (mode 0600) instead")
        parser.add_argument(
            "--notice", action="store_true", help="print the start-up notice (make run uses it)"
        )
        parser.add_argument("--bind-host", default="127.0.0.1", help="with --notice")
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="with --notice")

    def handle(self, *args, file: str | None, notice: bool, bind_host: str, url: str, **options):
        if notice:
            text = account_services.startup_notice(bind_host=bind_host, url=url)
            if text:
                self.stdout.write(text)
            return
        if account_selectors.user_exists():
            raise CommandError(
                "Accounts exist already: the setup token only creates the first one. "
                "Make another administrator with `python manage.py createsuperuser`."
            )
        token = account_services.setup_token_issue()
        if file:
            path = Path(file)
            # Created owner-only before the token is written into it.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(token + "\n")
            self.stdout.write(f"Setup token written to {path}.")
            return
        self.stdout.write(
            "Sign up the first account, which becomes the administrator, with this one-time "
            f"token (it works once, within "
            f"{signup.SETUP_TOKEN_TTL.total_seconds() / 3600:g} hours):\n"
            f"  setup token: {token}"
        )
