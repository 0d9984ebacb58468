"""Outbound HTTP to other services (Web Push services, the notification webhook): the adapters
behind chat/services/notifications, and the only aiohttp client code in chat/."""
