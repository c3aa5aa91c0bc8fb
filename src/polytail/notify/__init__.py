"""Notifications: Telegram and webhooks, over the service layer."""
