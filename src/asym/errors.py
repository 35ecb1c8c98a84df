"""asym's one exception tree, split by how the caller must react.

    AsymError
    ├── ConfigError                 bad configuration: fix it, do not retry
    ├── DataError                   malformed or invalid data (venue message, file, model output)
    └── VenueError                  anything a venue answered or failed to answer
        ├── RetryableError          transient (5xx, 10000, 10016, network): retry with backoff
        ├── RateLimitedError        10006, HTTP 403 ban, 429: wait until `retry_at_ms`, then retry
        ├── OutcomeUnknownError     a write may or may not have happened: reconcile, never blind-retry
        └── RejectedError           the venue refused the request: do not retry as is
            ├── AuthError                   10003/10004/10005/10007/10010, HTTP 401
            ├── InvalidRequestError         10001, bad symbol, filters, wrong-side trigger, ...
            ├── InsufficientBalanceError    110004/110007/110012/110044/110045
            ├── OrderNotFoundError          110001, 110008, 110010
            └── DuplicateOrderError         110072 (orderLinkId already used)

Every VenueError carries endpoint, ret_code, ret_msg and http_status; none ever carries a secret.
"""

from __future__ import annotations


class AsymError(Exception):
    """Root of every error asym raises on purpose."""


class ConfigError(AsymError):
    """Configuration is missing or invalid; the message says which setting and why."""


class DataError(AsymError):
    """Data failed validation or could not be parsed (malformed message, dirty file, broken model output)."""


class VenueError(AsymError):
    """A venue answered with an error, or did not answer."""

    def __init__(
        self,
        message: str,
        *,
        endpoint: str = "",
        ret_code: int | None = None,
        ret_msg: str = "",
        http_status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.endpoint = endpoint
        self.ret_code = ret_code
        self.ret_msg = ret_msg
        self.http_status = http_status

    def __str__(self) -> str:
        parts = [super().__str__()]
        if self.endpoint:
            parts.append(f"endpoint={self.endpoint}")
        if self.http_status is not None:
            parts.append(f"http={self.http_status}")
        if self.ret_code is not None:
            parts.append(f"retCode={self.ret_code}")
        if self.ret_msg:
            parts.append(f"retMsg={self.ret_msg!r}")
        return " ".join(parts)


class RetryableError(VenueError):
    """Transient failure; safe to retry a read, and a write only after reconciling."""


class RateLimitedError(VenueError):
    """A rate limit was hit; `retry_at_ms` (epoch ms) says when the window resets, when known."""

    def __init__(self, message: str, *, retry_at_ms: int | None = None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.retry_at_ms = retry_at_ms


class OutcomeUnknownError(VenueError):
    """A write was sent but its outcome is unknown; resolve by looking it up (orderLinkId), never resend."""


class RejectedError(VenueError):
    """The venue refused the request; retrying it unchanged will fail again."""


class AuthError(RejectedError):
    """Key unknown, signature wrong, permission missing or IP not whitelisted."""


class InvalidRequestError(RejectedError):
    """A parameter is wrong (filters, unknown symbol, wrong-side trigger, ...)."""


class InsufficientBalanceError(RejectedError):
    """Not enough balance or margin for the request."""


class OrderNotFoundError(RejectedError):
    """The order does not exist or is already final."""


class DuplicateOrderError(RejectedError):
    """The orderLinkId was already used: the order exists; look it up instead of placing it again."""


__all__ = [
    "AsymError",
    "AuthError",
    "ConfigError",
    "DataError",
    "DuplicateOrderError",
    "InsufficientBalanceError",
    "InvalidRequestError",
    "OrderNotFoundError",
    "OutcomeUnknownError",
    "RateLimitedError",
    "RejectedError",
    "RetryableError",
    "VenueError",
]
