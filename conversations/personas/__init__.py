"""Personas: a system prompt with model settings (models, selectors, services)."""
