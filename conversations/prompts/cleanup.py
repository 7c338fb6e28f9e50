"""A deleted account's prompts go with it, through the one deletion service
(deletion/registry.py). Registered when the app is ready (apps.py)."""

from ..deletion import registry
from . import services


@registry.on_account_deleted("prompts")
def account_prompts(user_id: int) -> None:
    services.account_prompts_delete(user_id=user_id)
