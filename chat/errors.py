"""Domain errors, each with the wire code and HTTP status that a transport reports.

    ChatError                 INTERNAL            500
    ├── ValidationFailed      VALIDATION_ERROR    400
    ├── Unauthorized          UNAUTHORIZED        401
    ├── Forbidden             FORBIDDEN           403
    ├── NotFound              NOT_FOUND           404
    ├── MethodNotAllowed      METHOD_NOT_ALLOWED  405 (REST only: an `Allow` header)
    ├── Conflict              CONFLICT            409
    ├── PayloadTooLarge       PAYLOAD_TOO_LARGE   413
    ├── UnsupportedMediaType  UNSUPPORTED_MEDIA_TYPE 415
    ├── RateLimited           RATE_LIMITED        429 (details.retryAfter, seconds)
    └── Unavailable           UNAVAILABLE         503

Services raise these; the REST error middleware and the Socket.IO dispatch wrapper are the only
places that turn them into `{"error": {...}}` bodies and `{"ok": false, "error": {...}}` acks.
This module imports nothing from the project.
"""

from __future__ import annotations

from typing import Any


class ChatError(Exception):
    code = "INTERNAL"
    status = 500
    default_message = "Internal server error"

    def __init__(self, message: str | None = None, details: dict[str, Any] | None = None):
        self.message = message or self.default_message
        self.details = details
        super().__init__(self.message)

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body


class ValidationFailed(ChatError):
    code, status, default_message = "VALIDATION_ERROR", 400, "Invalid request"


class Unauthorized(ChatError):
    code, status, default_message = "UNAUTHORIZED", 401, "Authentication required"


class Forbidden(ChatError):
    code, status, default_message = "FORBIDDEN", 403, "Not allowed"


class NotFound(ChatError):
    code, status, default_message = "NOT_FOUND", 404, "Not found"


class MethodNotAllowed(ChatError):
    code, status, default_message = "METHOD_NOT_ALLOWED", 405, "Method not allowed on this endpoint"

    def __init__(self, allowed: list[str]):
        self.allowed = allowed
        super().__init__(None, {"allowed": allowed})


class Conflict(ChatError):
    code, status, default_message = "CONFLICT", 409, "Conflict"


class PayloadTooLarge(ChatError):
    code, status, default_message = "PAYLOAD_TOO_LARGE", 413, "Payload too large"


class UnsupportedMediaType(ChatError):
    code, status, default_message = "UNSUPPORTED_MEDIA_TYPE", 415, "Unsupported media type"


class RateLimited(ChatError):
    code, status, default_message = "RATE_LIMITED", 429, "Too many requests"

    def __init__(self, retry_after: int, message: str | None = None):
        self.retry_after = max(1, int(retry_after))
        super().__init__(message, {"retryAfter": self.retry_after})


class Unavailable(ChatError):
    code, status, default_message = "UNAVAILABLE", 503, "Service temporarily unavailable"
