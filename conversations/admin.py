"""Staff pages of the app's models, each kept with its domain: personas, models, invites,
quotas, retention rules, compare settings, who may use what and MCP tool servers, and users' tags. Conversations and messages are review's
(review/conversation_admin.py)."""

from .access import admin as access_admin  # noqa: F401
from .accounts import admin as accounts_admin  # noqa: F401 - each registers its pages
from .catalog import admin as catalog_admin  # noqa: F401
from .compare import admin as compare_admin  # noqa: F401
from .deletion import admin as deletion_admin  # noqa: F401
from .limits import admin as limits_admin  # noqa: F401
from .mcp_servers import admin as mcp_admin  # noqa: F401
from .personas import admin as personas_admin  # noqa: F401
from .projects import admin as projects_admin  # noqa: F401
from .prompts import admin as prompts_admin  # noqa: F401
from .sharing import admin as sharing_admin  # noqa: F401
from .tags import admin as tags_admin  # noqa: F401
