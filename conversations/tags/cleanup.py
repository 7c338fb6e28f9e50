"""The tags' part in deleting an account (deletion/registry.py): its tags go with it.

A conversation's deletion needs nothing here: its links to tags cascade, and a tag left
on no conversation stays until its owner deletes it (from the sidebar's tag filter).
"""

from ..deletion import registry
from . import services


@registry.on_account_deleted("tags")
def account_tags(user_id: int) -> None:
    """Every tag of the account, in the deletion's transaction."""
    services.account_tags_delete(user_id=user_id)
