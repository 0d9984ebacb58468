"""The Socket.IO door: the server, the namespace, and the publisher behind service events."""
