"""Projects: a user's named groups of conversations, each with its own instructions and
defaults (persona, model, tools) for the chats started in it."""
