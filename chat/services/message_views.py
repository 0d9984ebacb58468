"""Messages as the wire shows them, with their senders and reactions looked up for a whole page."""

from __future__ import annotations

from chat.domain import Message, Reaction
from chat.services.file_urls import FileUrls
from chat.services.presenters.messages import message_view, reactions_view
from chat.services.presenters.shapes import MessageWire
from chat.store import Store


async def present(store: Store, urls: FileUrls, messages: list[Message]) -> list[MessageWire]:
    """The messages' views, two queries for the whole page (senders, reactions); the URLs of
    their local files signed afresh (services/file_urls.py)."""
    if not messages:
        return []
    senders = {u.id: u for u in await store.users.many(list({m.sender_id for m in messages}))}
    by_message: dict[str, list[Reaction]] = {}
    for row in await store.reactions.for_messages([m.id for m in messages]):
        by_message.setdefault(row.message_id, []).append(row)
    return urls.messages(
        [
            message_view(m, senders.get(m.sender_id), reactions_view(by_message.get(m.id, [])))
            for m in messages
        ]
    )


async def present_one(store: Store, urls: FileUrls, message: Message) -> MessageWire:
    return (await present(store, urls, [message]))[0]
