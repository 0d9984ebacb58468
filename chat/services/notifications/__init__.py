"""Notifications for people who are not connected: Web Push and a signed webhook.

dispatch.py decides who (levels, mentions, no live socket on any node), content.py what they
read, queue.py runs the deliveries in the background with retries, push.py and webhook.py
deliver (through chat/outbound), service.py ties them together behind the Notifier port.
"""
