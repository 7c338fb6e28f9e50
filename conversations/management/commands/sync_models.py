"""Refresh the model catalog from the provider's /models list."""

import asyncio

from django.core.management.base import BaseCommand, CommandError

from conversations.llm import LLMError
from conversations.provider.upstream import get_client

from ...provider import sync as model_sync


class Command(BaseCommand):
    help = "Add the provider's chat models to the catalog and mark missing ones unavailable."

    def handle(self, *args, **options) -> None:
        async def fetch() -> list[dict]:
            client = get_client()
            try:
                return await client.list_models()
            finally:
                await client.aclose()

        try:
            entries = asyncio.run(fetch())
        except LLMError as exc:
            raise CommandError(f"{exc.user_message} ({exc.detail})") from exc
        added, gone = model_sync.models_sync(provider_entries=entries)
        self.stdout.write(f"{added} models added, {gone} no longer listed by the provider.")
