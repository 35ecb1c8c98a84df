"""Alerts: rules over the system's state, deduplicated and rate-limited delivery to webhook / Telegram."""

from asym.monitor.alerts.book import ActiveAlert, AlertBook, Notification, Outbox, RateLimiter, Status
from asym.monitor.alerts.manager import AlertManager, gather_inputs
from asym.monitor.alerts.rules import (
    AlertInputs,
    ApiErrorRateRule,
    DataQualityRule,
    DrawdownRule,
    EmergencyModeRule,
    EventLoopLagRule,
    Firing,
    Rule,
    Severity,
    StaleDataRule,
    default_rules,
    evaluate_all,
)
from asym.monitor.alerts.sinks import (
    DeliveryError,
    Sink,
    TelegramSink,
    WebhookSink,
    telegram_text,
    webhook_payload,
)

__all__ = [
    "ActiveAlert",
    "AlertBook",
    "AlertInputs",
    "AlertManager",
    "ApiErrorRateRule",
    "DataQualityRule",
    "DeliveryError",
    "DrawdownRule",
    "EmergencyModeRule",
    "EventLoopLagRule",
    "Firing",
    "Notification",
    "Outbox",
    "RateLimiter",
    "Rule",
    "Severity",
    "Sink",
    "StaleDataRule",
    "Status",
    "TelegramSink",
    "WebhookSink",
    "default_rules",
    "evaluate_all",
    "gather_inputs",
    "telegram_text",
    "webhook_payload",
]
