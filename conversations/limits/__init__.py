"""Limits per user: turns (running, per minute, daily tokens) checked as a turn starts,
requests counted per minute or hour, and staff's quotas."""
