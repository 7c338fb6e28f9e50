"""The prompt library: saved prompts behind slash commands, a user's own or shared by staff
(models, variables, selectors, services, admin)."""
