"""Share links: a read-only snapshot of a conversation's branch behind a secret URL."""
