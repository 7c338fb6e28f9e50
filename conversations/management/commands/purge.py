"""Run the scheduled deletions now (retention first), as a server process's runner would:
for cron, when server processes do not run them (CHAT_PURGE_SECONDS=0), or beside them."""

from django.core.management.base import BaseCommand, CommandError

from ...deletion import runner


class Command(BaseCommand):
    help = (
        "Delete what the retention rules (and any other deletion job) say must go, a batch "
        "per transaction; --dry-run only says what would go."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Say what would be deleted; delete nothing."
        )
        parser.add_argument(
            "--batch",
            type=int,
            default=None,
            help="Conversations per transaction (default: CHAT_PURGE_BATCH).",
        )

    def handle(self, *args, dry_run: bool, batch: int | None, **options) -> None:
        if batch is not None and batch < 1:
            raise CommandError("--batch must be 1 or more.")
        if dry_run:
            for job, counts in runner.preview().items():
                self.stdout.write(f"{job}: would delete " + _counts(counts) + ".")
            return
        owner = runner.process_owner("command")
        report = runner.run(owner=owner, batch=batch)
        if not report.ran:
            self.stdout.write(
                "Another process is running the deletions now (it holds the lease): "
                "nothing done here."
            )
            return
        runner.log_report(report, owner=owner)
        for job, counts in report.counts.items():
            self.stdout.write(f"{job}: deleted " + (_counts(counts) or "nothing") + ".")
        if not report.finished:
            raise CommandError("The run lost its lease and stopped early; run it again.")


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{value:,} {key}" for key, value in counts.items())
