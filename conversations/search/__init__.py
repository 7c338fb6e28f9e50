"""Search of a user's conversations: the full-text index, the query, and snippets."""
