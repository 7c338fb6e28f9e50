"""Tags: a user's own labels on their conversations, to filter the sidebar and search."""
