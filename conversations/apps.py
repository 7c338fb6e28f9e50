from django.apps import AppConfig


class ConversationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "conversations"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from . import signals  # noqa: F401 - signals connects its receivers
        from .provider import availability
        from .search import index as search_index
        from .tools import builtin  # noqa: F401 - registers the built-in tools

        post_migrate.connect(search_index.on_post_migrate, sender=self)
        availability.connect_signals()
