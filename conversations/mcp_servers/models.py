"""An MCP tool server staff configured: where it is, how to call it, which of its tools
are offered and which need no approval. Who may use it is an access rule (access/kinds.py,
MCP_SERVER), not a field here."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator, URLValidator
from django.db import models

from . import secrets

# A prefix names a server's tools as `<prefix>__<tool>`: no "__" inside it, so the first
# "__" of a name always ends the prefix (two servers' names cannot collide).
PREFIX_PATTERN = r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$"
PREFIX_MAX = 20
MAX_TOOL_LIST = 500  # Names staff may list as offered or trusted.


def default_timeout() -> float:
    return settings.CHAT_MCP_TIMEOUT


def _tool_names(value) -> None:
    if value is None:
        return
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError("A list of tool names.")
    if len(value) > MAX_TOOL_LIST:
        raise ValidationError(f"At most {MAX_TOOL_LIST} tools.")


class McpServer(models.Model):
    name = models.CharField(max_length=100, unique=True, help_text="Shown to staff and users.")
    prefix = models.CharField(
        max_length=PREFIX_MAX,
        unique=True,
        validators=[
            RegexValidator(
                PREFIX_PATTERN,
                "Lower-case letters and digits, single '-' or '_' between them.",
            )
        ],
        help_text="Names this server's tools for models: <prefix>__<tool>.",
    )
    url = models.CharField(
        max_length=500,
        validators=[URLValidator(schemes=["http", "https"])],
        help_text="The server's streamable HTTP endpoint. Put keys in headers, not here: "
        "the address is shown and logged.",
    )
    # Static headers (an API key, say) as a Fernet token: see secrets.py. Never shown back.
    headers_encrypted = models.TextField(blank=True, default="", editable=False)
    timeout = models.FloatField(
        default=default_timeout, help_text="Seconds one call may take (also capped by the turn)."
    )
    enabled = models.BooleanField(default=True)
    internal = models.BooleanField(
        default=False,
        help_text="May reach private and loopback addresses. Only a superuser may change it.",
    )
    # None: every tool the server lists is offered (tools it adds later too); a list: those.
    offered_tools = models.JSONField(null=True, blank=True, default=None, validators=[_tool_names])
    trusted_tools = models.JSONField(default=list, blank=True, validators=[_tool_names])
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        app_label = "conversations"
        ordering = ["name"]
        verbose_name = "MCP tool server"

    def __str__(self) -> str:
        return self.name

    @property
    def headers(self) -> dict[str, str]:
        return secrets.decrypt_json(self.headers_encrypted)

    @headers.setter
    def headers(self, value: dict[str, str]) -> None:
        self.headers_encrypted = secrets.encrypt_json(value)

    def clean(self) -> None:
        super().clean()
        if "@" in urlsplit(self.url).netloc:
            # A user:password in the address would be shown and logged with it.
            raise ValidationError({"url": "Put credentials in the headers, not the address."})
        if not 0 < self.timeout <= settings.CHAT_MCP_MAX_TIMEOUT:
            raise ValidationError(
                {"timeout": f"Between 0 and {settings.CHAT_MCP_MAX_TIMEOUT:g} seconds."}
            )
