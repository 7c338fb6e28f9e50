"""Accounts: who may sign up (signup), sign-in limits (login_throttle), each user's
settings, and the account's own writes and reads."""
