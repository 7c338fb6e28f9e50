"""Recompute the dashboard's daily rollups from the messages."""

from django.core.management.base import BaseCommand

from conversations.review import stats


class Command(BaseCommand):
    help = "Recompute the review dashboard's daily counts from every saved message."

    def handle(self, *args, **options) -> None:
        stats.rebuild()
        self.stdout.write("Rebuilt the dashboard's daily counts.")
