"""Take it with you: export conversations (`export`) and import our own export or ChatGPT's
`conversations.json` (`importing`, checked against `schema`, saved by services)."""
