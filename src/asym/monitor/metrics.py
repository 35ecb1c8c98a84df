"""Prometheus metrics of asym on a dedicated CollectorRegistry, behind typed methods.

Other parts call `Metrics.observe_api_request(...)`, `Metrics.count_signal(...)`, ... and never touch
prometheus objects. Money becomes float only here, at the exposition boundary (Prometheus has no decimals);
the exact figures stay Decimal in the system. Every label value is bounded (endpoints, codes, enum values),
and the exposition text is passed through the secret redactor before it leaves the process.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from decimal import Decimal
from functools import partial
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector
from prometheus_client.exposition import generate_latest

from asym.logging import redact_text
from asym.monitor.view import SystemView
from asym.trading.modes import Mode

NAMESPACE = "asym"

API_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.5, 5.0, 10.0)
CYCLE_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0)
MODEL_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0, 120.0)
ORDER_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
LAG_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


def _code(value: int | None) -> str:
    return "none" if value is None else str(value)


def _money(value: Decimal | float | int | None) -> float:
    if value is None:
        return math.nan
    return float(value)


class Metrics:
    """Every asym metric, registered on its own registry (never prometheus_client's global one)."""

    def __init__(self, registry: CollectorRegistry | None = None, *, process: bool = True) -> None:
        self.registry = reg = registry if registry is not None else CollectorRegistry(auto_describe=True)
        ns = NAMESPACE
        # Every metric on this registry and namespace.
        counter = partial(Counter, namespace=ns, registry=reg)
        gauge = partial(Gauge, namespace=ns, registry=reg)
        histogram = partial(Histogram, namespace=ns, registry=reg)
        # Venue API.
        self.api_duration = histogram(
            "api_request_duration_seconds",
            "Venue API request latency per endpoint (one HTTP exchange, retries counted separately).",
            ["endpoint"],
            buckets=API_BUCKETS,
        )
        self.api_requests = counter(
            "api_requests",
            "Venue API requests by endpoint and outcome (ok or error).",
            ["endpoint", "outcome"],
        )
        self.api_errors = counter(
            "api_errors",
            "Venue API errors by endpoint, Bybit retCode and HTTP status ('none' when absent).",
            ["endpoint", "ret_code", "http_status"],
        )
        self.api_retries = counter(
            "api_retries",
            "Retries by endpoint and reason.",
            ["endpoint", "reason"],
        )
        self.rate_limit_waits = counter(
            "api_rate_limit_waits",
            "Times a request waited for a rate limit, by endpoint and scope (ip, endpoint, venue).",
            ["endpoint", "scope"],
        )
        self.rate_limit_wait_seconds = counter(
            "api_rate_limit_wait_seconds",
            "Seconds spent waiting for rate limits, by endpoint and scope.",
            ["endpoint", "scope"],
        )
        self.websocket_events = counter(
            "websocket_events",
            "WebSocket events (connect, disconnect, resync, malformed, ...) by stream.",
            ["stream", "event"],
        )
        # Collection and data quality.
        self.cycle_duration = histogram(
            "collection_cycle_duration_seconds",
            "Duration of one market-data collection cycle.",
            buckets=CYCLE_BUCKETS,
        )
        self.cycle_completeness = gauge(
            "collection_cycle_completeness_ratio",
            "Share of symbols whose data was complete in the last collection cycle (0..1).",
        )
        self.cycle_symbols = gauge(
            "collection_cycle_symbols",
            "Symbols in the last collection cycle, by state (expected, complete).",
            ["state"],
        )
        self.freshness = gauge(
            "data_freshness_seconds",
            "Age of the newest data per stream (seconds).",
            ["stream"],
        )
        self.quality_events = counter("data_quality_events", "Data-quality events by kind.", ["kind"])
        self.usable_share = gauge(
            "data_usable_assets_ratio",
            "Share of watched assets with fresh, unflagged data (0..1).",
        )
        # Models and signals.
        self.model_duration = histogram(
            "model_request_duration_seconds",
            "Model (LLM or rules) answer latency by provider and model.",
            ["provider", "model"],
            buckets=MODEL_BUCKETS,
        )
        self.model_requests = counter(
            "model_requests",
            "Model requests by provider, model and outcome.",
            ["provider", "model", "outcome"],
        )
        self.model_tokens = counter(
            "model_tokens",
            "Model tokens by provider, model and direction (prompt, completion, cached_prompt).",
            ["provider", "model", "direction"],
        )
        self.model_cost = counter(
            "model_cost_dollars",
            "Model cost in US dollars by provider and model.",
            ["provider", "model"],
        )
        self.signals = counter(
            "signals",
            "Signal outcomes: accepted (by action) or rejected (by reason code).",
            ["outcome", "action", "reason"],
        )
        self.signal_to_order = histogram(
            "signal_to_order_duration_seconds",
            "Time from a validated signal to its order being acknowledged by the venue.",
            buckets=ORDER_BUCKETS,
        )
        # Account.
        self.open_positions = gauge("open_positions", "Open positions.")
        self.equity = gauge("account_equity_usdt", "Account equity (USDT).")
        self.pnl = gauge(
            "pnl_usdt",
            "Profit and loss since start (USDT), by kind (realised, unrealised, total).",
            ["kind"],
        )
        self.drawdown = gauge("drawdown_ratio", "Drawdown from the peak equity (0..1).")
        self.mode = gauge(
            "trading_mode",
            "Trading mode: 1 for the current mode, 0 for the others.",
            ["mode"],
        )
        # Process and event loop.
        self.loop_lag = histogram(
            "event_loop_lag_seconds",
            "Event-loop scheduling delay (how late a timer fired).",
            buckets=LAG_BUCKETS,
        )
        self.loop_lag_max = gauge(
            "event_loop_lag_max_seconds",
            "Largest event-loop lag in the monitor's recent window.",
        )
        self.process_cpu = gauge(
            "process_cpu_usage_ratio",
            "CPU used by the process since the previous sample, as a share of one core.",
        )
        # Alerts and logging.
        self.alerts_firing = gauge("alerts_firing", "Active alerts by rule.", ["rule"])
        self.alert_deliveries = counter(
            "alert_deliveries",
            "Alert notifications by channel and outcome (sent, failed, rate_limited, dropped).",
            ["channel", "outcome"],
        )
        self.log_dropped = counter(
            "log_records_dropped",
            "Log records dropped because the log queue was full.",
        )
        self.process_rss: Gauge | None = None
        if process and Path("/proc/self/stat").exists():
            # The standard process_* metrics (resident memory, CPU seconds, fds) read from /proc (Linux).
            ProcessCollector(namespace=ns, registry=reg)
        elif process:
            self.process_rss = gauge(
                "process_resident_memory_bytes",
                "Resident memory of the process (bytes), sampled by the monitor.",
            )
        for kind in ("realised", "unrealised", "total"):
            self.pnl.labels(kind=kind).set(0)
        for m in Mode:
            self.mode.labels(mode=m.value).set(0)
        self._quality_seen: dict[str, int] = {}
        self.api_request_total = 0
        self.api_error_total = 0
        self.last_loop_lag_s = 0.0

    # --- venue API ---------------------------------------------------------------------------------

    def observe_api_request(
        self, endpoint: str, seconds: float, ret_code: int | None = 0, http_status: int | None = None
    ) -> None:
        """One venue request: its latency, and an error when retCode != 0 or HTTP status is not 200."""
        ok = ret_code == 0 and (http_status is None or http_status == 200)
        self.observe_api_latency(endpoint, seconds, ok)
        if not ok:
            self.count_api_error(endpoint, ret_code, http_status)

    def observe_api_latency(self, endpoint: str, seconds: float, ok: bool) -> None:
        """Latency and outcome of one request (errors are counted by `count_api_error`)."""
        if math.isfinite(seconds) and seconds >= 0:
            self.api_duration.labels(endpoint=endpoint).observe(seconds)
        self.api_requests.labels(endpoint=endpoint, outcome="ok" if ok else "error").inc()
        self.api_request_total += 1

    def count_api_error(self, endpoint: str, ret_code: int | None, http_status: int | None) -> None:
        """An error answer or transport failure (both codes None)."""
        self.api_errors.labels(
            endpoint=endpoint, ret_code=_code(ret_code), http_status=_code(http_status)
        ).inc()
        self.api_error_total += 1

    def count_retry(self, endpoint: str, reason: str) -> None:
        """A retry of `endpoint` because of `reason`."""
        self.api_retries.labels(endpoint=endpoint, reason=reason).inc()

    def observe_rate_limit_wait(self, endpoint: str, scope: str, seconds: float) -> None:
        """A wait for a rate limit."""
        self.rate_limit_waits.labels(endpoint=endpoint, scope=scope).inc()
        if math.isfinite(seconds) and seconds > 0:
            self.rate_limit_wait_seconds.labels(endpoint=endpoint, scope=scope).inc(seconds)

    def count_websocket_event(self, stream: str, event: str) -> None:
        """A WebSocket event."""
        self.websocket_events.labels(stream=stream, event=event).inc()

    # --- collection and quality --------------------------------------------------------------------

    def observe_collection_cycle(self, seconds: float, symbols_expected: int, symbols_complete: int) -> None:
        """One collection cycle: its duration and how many symbols came back complete."""
        self.cycle_duration.observe(max(0.0, seconds))
        self.cycle_symbols.labels(state="expected").set(symbols_expected)
        self.cycle_symbols.labels(state="complete").set(symbols_complete)
        share = symbols_complete / symbols_expected if symbols_expected > 0 else 0.0
        self.cycle_completeness.set(min(1.0, max(0.0, share)))

    def set_data_freshness(self, stream: str, age_seconds: float | None) -> None:
        """Age of the newest data of `stream` (None = never received: +Inf)."""
        self.freshness.labels(stream=stream).set(math.inf if age_seconds is None else age_seconds)

    def count_quality_event(self, kind: str, n: int = 1) -> None:
        """`n` new data-quality events of `kind`."""
        if n > 0:
            self.quality_events.labels(kind=kind).inc(n)

    def sync_quality_counts(self, counts: Mapping[str, int]) -> None:
        """Bring the counters up to cumulative counts (as a SystemView reports them); a drop is a restart."""
        for kind, total in counts.items():
            seen = self._quality_seen.get(kind, 0)
            if total > seen:
                self.quality_events.labels(kind=kind).inc(total - seen)
            self._quality_seen[kind] = total

    # --- models and signals ------------------------------------------------------------------------

    def observe_model_request(
        self,
        provider: str,
        model: str,
        seconds: float,
        *,
        prompt_tokens: int = 0,
        completion_tokens: int = 0,
        cached_prompt_tokens: int = 0,
        cost_usd: Decimal | None = None,
        outcome: str = "ok",
    ) -> None:
        """One model answer: latency, tokens, cost (None = unknown price: not added)."""
        self.model_duration.labels(provider=provider, model=model).observe(max(0.0, seconds))
        self.model_requests.labels(provider=provider, model=model, outcome=outcome).inc()
        for direction, n in (
            ("prompt", prompt_tokens),
            ("completion", completion_tokens),
            ("cached_prompt", cached_prompt_tokens),
        ):
            if n > 0:
                self.model_tokens.labels(provider=provider, model=model, direction=direction).inc(n)
        if cost_usd is not None and cost_usd > 0:
            self.model_cost.labels(provider=provider, model=model).inc(float(cost_usd))

    def count_signal(self, outcome: str, action: str = "", reason: str = "") -> None:
        """A signal outcome: ('accepted', 'LONG') or ('rejected', reason='stop_too_tight')."""
        self.signals.labels(outcome=outcome, action=action or "none", reason=reason or "none").inc()

    def observe_signal_to_order(self, seconds: float) -> None:
        """Latency from a validated signal to the venue's order acknowledgement."""
        self.signal_to_order.observe(max(0.0, seconds))

    # --- account and mode --------------------------------------------------------------------------

    def set_account(
        self,
        *,
        equity: Decimal,
        realised_pnl: Decimal,
        unrealised_pnl: Decimal,
        drawdown: Decimal,
        open_positions: int,
    ) -> None:
        """Account gauges."""
        self.equity.set(_money(equity))
        self.pnl.labels(kind="realised").set(_money(realised_pnl))
        self.pnl.labels(kind="unrealised").set(_money(unrealised_pnl))
        self.pnl.labels(kind="total").set(_money(realised_pnl + unrealised_pnl))
        self.drawdown.set(_money(drawdown))
        self.open_positions.set(open_positions)

    def set_mode(self, mode: Mode) -> None:
        """Mark `mode` as the current one."""
        for m in Mode:
            self.mode.labels(mode=m.value).set(1 if m is mode else 0)

    # --- process and loop --------------------------------------------------------------------------

    def observe_loop_lag(self, seconds: float) -> None:
        """One event-loop lag sample."""
        lag = max(0.0, seconds)
        self.loop_lag.observe(lag)
        self.last_loop_lag_s = lag

    def set_loop_lag_max(self, seconds: float) -> None:
        """The largest lag of the recent window."""
        self.loop_lag_max.set(max(0.0, seconds))

    def set_process(self, rss_bytes: int | None, cpu_ratio: float | None) -> None:
        """CPU share (and resident memory where /proc is absent: there the process collector has it)."""
        if rss_bytes is not None and self.process_rss is not None:
            self.process_rss.set(rss_bytes)
        if cpu_ratio is not None:
            self.process_cpu.set(cpu_ratio)

    # --- alerts and logs ---------------------------------------------------------------------------

    def set_alerts_firing(self, rules: Iterable[str], active: Mapping[str, int]) -> None:
        """Active alert count per rule (rules without an active alert are set to 0)."""
        for rule in rules:
            self.alerts_firing.labels(rule=rule).set(active.get(rule, 0))

    def count_alert_delivery(self, channel: str, outcome: str) -> None:
        """One notification attempt."""
        self.alert_deliveries.labels(channel=channel, outcome=outcome).inc()

    def count_log_dropped(self, n: int = 1) -> None:
        """Log records dropped (queue full)."""
        self.log_dropped.inc(n)

    # --- whole-system refresh and exposition -------------------------------------------------------

    def update_from_view(self, view: SystemView) -> None:
        """Refresh the gauges that mirror the system's state (called before each scrape)."""
        acct = view.account()
        positions = view.positions()
        self.set_account(
            equity=acct.equity,
            realised_pnl=acct.realised_pnl,
            unrealised_pnl=acct.unrealised_pnl,
            drawdown=acct.drawdown,
            open_positions=sum(1 for p in positions if p.size > 0),
        )
        self.set_mode(view.mode().mode)
        quality = view.data_quality()
        for f in quality.freshness:
            self.set_data_freshness(f.stream, f.age_s)
        self.sync_quality_counts(quality.events_by_kind)
        if quality.usable_share is not None:
            self.usable_share.set(quality.usable_share)

    def exposition(self) -> bytes:
        """The Prometheus text format of every metric, secrets redacted."""
        return redact_text(generate_latest(self.registry).decode()).encode()
