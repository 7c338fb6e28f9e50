from django.apps import AppConfig


class ConversationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "conversations"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from . import signals  # noqa: F401 - signals connects its receivers
        from .access import kinds
        from .accounts import sessions
        from .files import cleanup  # noqa: F401 - registers files' part in deletions
        from .mcp_servers import discovery as mcp_discovery
        from .mcp_servers import selectors as mcp_selectors
        from .mcp_servers import source as mcp_source
        from .personas import selectors as persona_selectors
        from .prompts import cleanup as _prompts_cleanup  # noqa: F401 - registers its deletion
        from .prompts import selectors as prompt_selectors
        from .provider import availability
        from .search import index as search_index
        from .tags import cleanup as tag_cleanup  # noqa: F401 - registers tags' part in deletions
        from .tools import builtin, registry  # noqa: F401 - builtin registers the tools

        post_migrate.connect(search_index.on_post_migrate, sender=self)
        availability.connect_signals()
        sessions.connect_signals()
        mcp_discovery.connect_signals()
        mcp_source.install()
        # What staff may keep to groups, as the admin's form lists them (access/kinds.py).
        kinds.offer(kinds.MODEL, availability.model_names)
        kinds.offer(kinds.PERSONA, persona_selectors.shared_names, persona_selectors.shared_name)
        kinds.offer(kinds.TOOL, registry.tool_names)
        kinds.offer(kinds.MCP_SERVER, mcp_selectors.server_names, mcp_selectors.server_name)
        kinds.offer(kinds.PROMPT, prompt_selectors.shared_names, prompt_selectors.shared_name)
