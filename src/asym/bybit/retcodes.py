"""Every HTTP status and retCode of Bybit V5 classified ONCE: what the client does when it sees it.

Actions:
* OK          success.
* NOOP        "not modified" answers (leverage unchanged, TP/SL unchanged): treated as success.
* RETRY       transient: retry reads with backoff. For writes the request was processed or not,
              we cannot tell: the write's outcome is UNKNOWN (see `write` column).
* RATE_LIMIT  the request was refused by a rate limit: wait (reset timestamp or backoff), then retry.
              Nothing happened on the venue, so writes may be retried too.
* TIME_SYNC   timestamp outside recv window: re-measure the server clock, then retry (nothing happened).
* REJECT      the venue refused the request: raise `exc` (a RejectedError subclass); never retry as is.
* UNKNOWN     a write may or may not have happened: resolve by looking it up (orderLinkId).
* DUPLICATE   orderLinkId already used: the order exists; look it up and return it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from asym.errors import (
    AuthError,
    DuplicateOrderError,
    InsufficientBalanceError,
    InvalidRequestError,
    OrderNotFoundError,
    OutcomeUnknownError,
    RateLimitedError,
    RejectedError,
    RetryableError,
    VenueError,
)


class Action(Enum):
    """What the transport does with an answer."""

    OK = "ok"
    NOOP = "noop"
    RETRY = "retry"
    RATE_LIMIT = "rate_limit"
    TIME_SYNC = "time_sync"
    REJECT = "reject"
    UNKNOWN = "unknown"
    DUPLICATE = "duplicate"


@dataclass(frozen=True, slots=True)
class Rule:
    """How to react to one code, for a read and for a write, and which exception to raise if it fails."""

    read: Action
    write: Action
    exc: type[VenueError]
    meaning: str


def _reject(exc: type[VenueError], meaning: str) -> Rule:
    return Rule(Action.REJECT, Action.REJECT, exc, meaning)


def _transient(meaning: str) -> Rule:
    return Rule(Action.RETRY, Action.UNKNOWN, RetryableError, meaning)


_OK = Rule(Action.OK, Action.OK, VenueError, "success")
_NOOP = Rule(Action.NOOP, Action.NOOP, VenueError, "not modified: treated as success")
_RATE = Rule(Action.RATE_LIMIT, Action.RATE_LIMIT, RateLimitedError, "rate limited")
_TIME = Rule(Action.TIME_SYNC, Action.TIME_SYNC, RetryableError, "timestamp outside recv window")

RETCODES: dict[int, Rule] = {
    0: _OK,
    -1: Rule(Action.TIME_SYNC, Action.TIME_SYNC, RetryableError, "request expired: re-sync clock"),
    429: Rule(Action.RATE_LIMIT, Action.UNKNOWN, RateLimitedError, "trading service overloaded"),
    10000: _transient("server timeout"),
    10001: _reject(InvalidRequestError, "request parameter error"),
    10002: _TIME,
    10003: _reject(AuthError, "invalid API key (or key of another environment)"),
    10004: _reject(AuthError, "signature error"),
    10005: _reject(AuthError, "permission denied"),
    10006: _RATE,
    10007: _reject(AuthError, "user authentication failed"),
    10008: _reject(AuthError, "common ban / account mode"),
    10009: _reject(AuthError, "region restricted"),
    10010: _reject(AuthError, "IP not whitelisted for key"),
    10014: _reject(InvalidRequestError, "invalid duplicate request"),
    10016: _transient("server error / service restarting"),
    10017: _reject(InvalidRequestError, "route not found"),
    10018: _RATE,
    10024: _reject(AuthError, "compliance rules"),
    10027: _reject(AuthError, "trading banned"),
    10029: _reject(AuthError, "symbol not whitelisted"),
    110001: _reject(OrderNotFoundError, "order does not exist"),
    110003: _reject(InvalidRequestError, "order price out of permissible range"),
    110004: _reject(InsufficientBalanceError, "wallet balance insufficient"),
    110007: _reject(InsufficientBalanceError, "available balance insufficient"),
    110008: _reject(OrderNotFoundError, "order already completed or cancelled"),
    110009: _reject(InvalidRequestError, "too many stop orders"),
    110010: _reject(OrderNotFoundError, "order already cancelled"),
    110012: _reject(InsufficientBalanceError, "insufficient available balance"),
    110013: _reject(InvalidRequestError, "leverage not allowed by risk limit"),
    110017: _reject(InvalidRequestError, "reduce-only: qty would be truncated to zero"),
    110020: _reject(InvalidRequestError, "more than 500 active orders"),
    110022: _reject(InvalidRequestError, "qty increase not allowed"),
    110025: _NOOP,
    110026: _NOOP,
    110027: _NOOP,
    110043: _NOOP,
    110044: _reject(InsufficientBalanceError, "insufficient available margin"),
    110045: _reject(InsufficientBalanceError, "insufficient wallet balance"),
    110057: _reject(InvalidRequestError, "TP/SL not allowed on this order"),
    110064: _reject(InvalidRequestError, "amended qty at or below filled qty"),
    110072: Rule(Action.DUPLICATE, Action.DUPLICATE, DuplicateOrderError, "duplicate orderLinkId"),
    110074: _reject(InvalidRequestError, "contract not live"),
    110086: _reject(InvalidRequestError, "leverage above risk tier"),
    110092: _reject(InvalidRequestError, "trigger price must be above market for a rising trigger"),
    110093: _reject(InvalidRequestError, "trigger price must be below market for a falling trigger"),
    110094: _reject(InvalidRequestError, "order notional below minimum"),
    34040: _NOOP,
    170131: _reject(InsufficientBalanceError, "spot balance insufficient"),
    170141: Rule(Action.DUPLICATE, Action.DUPLICATE, DuplicateOrderError, "duplicate clientOrderId (spot)"),
    170213: _reject(OrderNotFoundError, "spot order does not exist"),
}

_DEFAULT_RETCODE = _reject(RejectedError, "unclassified retCode: refused")

HTTP_STATUSES: dict[int, Rule] = {
    200: _OK,
    400: _reject(InvalidRequestError, "bad request"),
    401: _reject(AuthError, "missing or invalid auth headers"),
    403: Rule(
        Action.RATE_LIMIT, Action.RATE_LIMIT, RateLimitedError, "IP banned (rate limit) or geo-blocked"
    ),
    404: _reject(InvalidRequestError, "unknown path or category"),
    429: Rule(Action.RATE_LIMIT, Action.UNKNOWN, RateLimitedError, "system-level frequency protection"),
}
_HTTP_5XX = _transient("server error (5xx)")
_HTTP_OTHER = Rule(Action.RETRY, Action.UNKNOWN, RetryableError, "unexpected HTTP status")

TRANSPORT_NOT_SENT = Rule(Action.RETRY, Action.RETRY, RetryableError, "connection failed before sending")
TRANSPORT_AFTER_SEND = _transient("timeout or connection lost after sending")
MALFORMED_BODY = Rule(Action.RETRY, Action.UNKNOWN, RetryableError, "response body is not a valid envelope")


def classify_retcode(code: int) -> Rule:
    """The rule for a retCode (spot 170xxx default to InvalidRequestError, others to RejectedError)."""
    rule = RETCODES.get(code)
    if rule is not None:
        return rule
    if 170000 <= code < 180000 or 110000 <= code < 120000:
        return _reject(InvalidRequestError, "order rejected")
    return _DEFAULT_RETCODE


def classify_http(status: int) -> Rule:
    """The rule for an HTTP status (5xx transient)."""
    rule = HTTP_STATUSES.get(status)
    if rule is not None:
        return rule
    if 500 <= status < 600:
        return _HTTP_5XX
    return _HTTP_OTHER


def action_for(rule: Rule, write: bool) -> Action:
    """The action for a read or a write."""
    return rule.write if write else rule.read


def make_error(
    rule: Rule,
    *,
    write: bool,
    endpoint: str,
    ret_code: int | None = None,
    ret_msg: str = "",
    http_status: int | None = None,
    retry_at_ms: int | None = None,
) -> VenueError:
    """The exception for a failed answer: OutcomeUnknownError for an unknown write, else the rule's class."""
    action = action_for(rule, write)
    message = rule.meaning
    kwargs = {"endpoint": endpoint, "ret_code": ret_code, "ret_msg": ret_msg, "http_status": http_status}
    if action is Action.UNKNOWN:
        return OutcomeUnknownError(f"outcome unknown: {message}", **kwargs)  # type: ignore[arg-type]
    if issubclass(rule.exc, RateLimitedError):
        return RateLimitedError(message, retry_at_ms=retry_at_ms, **kwargs)
    return rule.exc(message, **kwargs)  # type: ignore[arg-type]
