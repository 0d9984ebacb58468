"""The domain: accounts, users, rooms, messages, receipts and presence. No transport in here."""
