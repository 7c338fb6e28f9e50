"""Deleting data: the one way conversations and accounts go, whoever asks (their owner,
staff, an account's deletion, a retention rule), and the one runner that deletes on a
schedule. Later kinds of data say what must go with a conversation or an account
(registry.py); retention is the runner's first job (retention.py)."""
