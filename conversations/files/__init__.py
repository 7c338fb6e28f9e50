"""Files people bring into a conversation: uploads, their checks and extraction, storage,
serving, and what of them goes upstream."""
