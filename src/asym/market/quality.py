"""Quality events, their aggregation into reports (also of file loads), and the thresholds of the checks.

A `QualityEvent` is one problem found in market data (a crossed book, a stale ticker, an outlier print);
`asym.market.validation` produces them, the collector stores them (`asym.store`) and turns them into
`EnhancedData.quality_flags` through `QualityReport.flags_for`. Nothing here does I/O.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from decimal import Decimal
from enum import StrEnum

import msgspec

from asym.errors import DataError


class Severity(StrEnum):
    """How bad a problem is: ERROR = the value must not be used; WARNING = suspicious; INFO = noted."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class QualityKind(StrEnum):
    """What kind of problem an event reports (stored as its value; never rename a member)."""

    NOT_FINITE = "not_finite"
    ZERO_PRICE = "zero_price"
    NEGATIVE_PRICE = "negative_price"
    NEGATIVE_VALUE = "negative_value"
    OUT_OF_RANGE = "out_of_range"
    OHLC_INCONSISTENT = "ohlc_inconsistent"
    EMPTY_BOOK = "empty_book"
    CROSSED_BOOK = "crossed_book"
    UNSORTED_BOOK = "unsorted_book"
    STALE = "stale"
    FUTURE_TIMESTAMP = "future_timestamp"
    OUTLIER = "outlier"
    PRICE_DEVIATION = "price_deviation"
    SOURCE_MISMATCH = "source_mismatch"
    MISSING = "missing"
    CANDLE_GAP = "candle_gap"
    DUPLICATE = "duplicate"
    OUT_OF_ORDER = "out_of_order"
    MISALIGNED = "misaligned"


class QualityEvent(msgspec.Struct, frozen=True, kw_only=True):
    """One data-quality problem: which symbol, stream and field, what kind, how bad, and the bad value."""

    ts: int
    """When the problem was observed: the data's own timestamp (ms) where it has one."""
    symbol: str
    source: str
    """The stream or origin: 'candle', 'book', 'ticker', 'funding', 'open_interest', 'cross', a file ..."""
    field: str
    kind: QualityKind
    severity: Severity
    detail: str
    value: str | None = None
    """The offending value as an exact string (Decimal str), when there is one."""

    @property
    def flag(self) -> str:
        """Short flag for `EnhancedData.quality_flags`, e.g. 'book_crossed_book', 'ticker_stale'."""
        return f"{self.source}_{self.kind.value}"


def _default_freshness() -> dict[str, int]:
    return {
        "book": 5_000,
        "ticker": 5_000,
        "trade": 60_000,
        "funding": 8 * 3_600_000 + 300_000,
        "open_interest": 3_600_000 + 300_000,
        "long_short_ratio": 3_600_000 + 300_000,
    }


def _default_cross_tolerances() -> dict[str, Decimal]:
    return {
        "last~mid": Decimal("0.5"),
        "last~mark": Decimal("1"),
        "last~index": Decimal("2"),
        "mid~mark": Decimal("1"),
        "mid~index": Decimal("2"),
        "mark~index": Decimal("1"),
        "candle_close~last": Decimal("1"),
        "candle_close~mark": Decimal("1.5"),
        "candle_close~mid": Decimal("1"),
        "candle_close~index": Decimal("2"),
        # The newest trade from the publicTrade stream: like last (which it is, a moment fresher).
        "trade~last": Decimal("0.5"),
        "trade~mid": Decimal("0.5"),
        "trade~mark": Decimal("1"),
        "trade~index": Decimal("2"),
        "trade~candle_close": Decimal("1"),
    }


class ValidationConfig(msgspec.Struct, frozen=True, kw_only=True):
    """Every threshold of the checks; defaults are documented (and justified) in docs/validation.md."""

    freshness_ms: dict[str, int] = msgspec.field(default_factory=_default_freshness)
    """Maximum age (now - data ts) per stream before the stream is stale."""
    candle_grace_ms: int = 30_000
    """Candles are stale when the newest one closed more than one interval + this grace ago."""
    max_clock_skew_ms: int = 2_000
    """A timestamp further than this in the future is reported (clock skew or a unit error)."""
    outlier_z: float = 50.0
    """Robust z-score (median/MAD of close-to-close log returns) above which a print is an outlier."""
    outlier_min_samples: int = 30
    """Fewer returns than this: no outlier verdict (the median/MAD would be meaningless)."""
    max_mark_deviation_pct: Decimal = Decimal("1")
    """Last price further than this from the mark price (percent of mark) is reported."""
    max_index_deviation_pct: Decimal = Decimal("2")
    """Last price further than this from the index price (percent of index) is reported."""
    cross_tolerance_pct: dict[str, Decimal] = msgspec.field(default_factory=_default_cross_tolerances)
    """Tolerance per source pair 'a~b' (order-free) in percent of b; pairs not listed use the default."""
    default_cross_tolerance_pct: Decimal = Decimal("1")
    """Tolerance for pairs not in `cross_tolerance_pct`, e.g. 'last~binance' (a second exchange)."""
    max_abs_funding_rate: Decimal = Decimal("0.05")
    """A funding rate beyond +-5 % per interval is out of range (Bybit caps are at most a few %)."""

    def tolerance(self, a: str, b: str) -> Decimal:
        """The tolerance (percent) for the pair of sources a and b, in either order."""
        t = self.cross_tolerance_pct
        return t.get(f"{a}~{b}", t.get(f"{b}~{a}", self.default_cross_tolerance_pct))


class Completeness(msgspec.Struct, frozen=True, kw_only=True):
    """How complete one collection cycle was: expected symbol x field cells present / expected."""

    expected: int
    present: int
    ratio: float
    """present / expected (1.0 when nothing was expected)."""
    missing: tuple[tuple[str, str], ...]
    """(symbol, field) cells that were absent or None, sorted."""


class QualityReport(msgspec.Struct, frozen=True, kw_only=True):
    """Aggregate of quality events: counts by kind and severity, and the flagged fields per symbol."""

    events: tuple[QualityEvent, ...] = ()
    counts_by_kind: dict[str, int] = msgspec.field(default_factory=dict)
    counts_by_severity: dict[str, int] = msgspec.field(default_factory=dict)
    flagged_fields: dict[str, tuple[str, ...]] = msgspec.field(default_factory=dict)
    """symbol -> sorted 'source.field' names that had at least one event."""

    @classmethod
    def from_events(cls, events: Iterable[QualityEvent]) -> QualityReport:
        """Build a report from any number of events."""
        evs = tuple(events)
        kinds = Counter(e.kind.value for e in evs)
        sev = Counter(e.severity.value for e in evs)
        fields: dict[str, set[str]] = {}
        for e in evs:
            fields.setdefault(e.symbol, set()).add(f"{e.source}.{e.field}")
        return cls(
            events=evs,
            counts_by_kind=dict(sorted(kinds.items())),
            counts_by_severity=dict(sorted(sev.items())),
            flagged_fields={s: tuple(sorted(f)) for s, f in sorted(fields.items())},
        )

    def merge(self, other: QualityReport) -> QualityReport:
        """A report with the events of both."""
        return QualityReport.from_events(self.events + other.events)

    @property
    def has_errors(self) -> bool:
        """True when any event has ERROR severity."""
        return self.counts_by_severity.get(Severity.ERROR.value, 0) > 0

    def count(self, kind: QualityKind) -> int:
        """How many events of one kind."""
        return self.counts_by_kind.get(kind.value, 0)

    def for_symbol(self, symbol: str) -> tuple[QualityEvent, ...]:
        """The events of one symbol."""
        return tuple(e for e in self.events if e.symbol == symbol)

    def flags_for(self, symbol: str, min_severity: Severity = Severity.WARNING) -> tuple[str, ...]:
        """Sorted unique flags of one symbol at or above a severity (for EnhancedData.quality_flags)."""
        order = {Severity.INFO: 0, Severity.WARNING: 1, Severity.ERROR: 2}
        return tuple(
            sorted(
                {
                    e.flag
                    for e in self.events
                    if e.symbol == symbol and order[e.severity] >= order[min_severity]
                }
            )
        )


# ---------------------------------------------------------------- file loads (asym.market.loaders)


class DirtyDataError(DataError):
    """A file was dirty and `on_dirty='reject'` was asked for; `report` says what was wrong."""

    def __init__(self, report: LoadReport) -> None:
        super().__init__(f"{report.path}: dirty data rejected: " + "; ".join(report.problems))
        self.report = report


class LoadReport(msgspec.Struct, kw_only=True):
    """What a load found and did. `dirty` is True when the file needed cleaning (not for gaps or outliers)."""

    path: str
    layout: str
    symbol: str = ""
    interval: str | None = None
    venue: str | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    unparseable_rows: int = 0
    unparseable_examples: list[str] = msgspec.field(default_factory=list)
    seconds_timestamps: int = 0
    millisecond_timestamps: int = 0
    microsecond_timestamps: int = 0
    iso_timestamps: int = 0
    duplicates_removed: int = 0
    duplicate_conflicts: int = 0
    """Duplicates whose values differed from the kept row (the ms-stamped row wins, then file order)."""
    reversed_order: bool = False
    out_of_order_rows: int = 0
    date_column: str | None = None
    """The human-readable date column, ignored in favour of the unix column."""
    date_offset_hours: float | None = None
    """Constant offset of the date column against the unix column (a local time zone), when not 0."""
    twelve_hour_dates: int = 0
    date_mismatches: int = 0
    invalid_rows_dropped: int = 0
    values_estimated: int = 0
    """Rows whose volume or turnover was NaN in the file and was estimated from the other one."""
    misaligned_rows: int = 0
    """Bars whose start is not on the interval's UTC grid (dropped)."""
    open_bars_dropped: int = 0
    outliers_flagged: int = 0
    outliers_dropped: int = 0
    missing_starts: list[int] = msgspec.field(default_factory=list)
    estimated_fields: tuple[str, ...] = ()
    events: list[QualityEvent] = msgspec.field(default_factory=list)

    @property
    def mixed_units(self) -> bool:
        """True when the time column mixed seconds, milliseconds, microseconds or ISO strings."""
        units = (
            self.seconds_timestamps,
            self.millisecond_timestamps,
            self.microsecond_timestamps,
            self.iso_timestamps,
        )
        return sum(1 for n in units if n) > 1

    @property
    def problems(self) -> list[str]:
        """One human line per kind of dirt found (empty for a clean file)."""
        p = []
        if self.unparseable_rows:
            p.append(f"{self.unparseable_rows} unparseable rows (e.g. {self.unparseable_examples[:3]})")
        if self.mixed_units:
            p.append(
                f"mixed timestamp units: {self.seconds_timestamps} in s, {self.millisecond_timestamps} in ms,"
                f" {self.microsecond_timestamps} in us, {self.iso_timestamps} ISO; all normalised to ms"
            )
        if self.duplicates_removed:
            n, conflicts = self.duplicates_removed, self.duplicate_conflicts
            p.append(f"{n} duplicate timestamps removed ({conflicts} disagreed with the kept row)")
        if self.reversed_order:
            p.append("rows were newest first: reversed")
        if self.out_of_order_rows:
            p.append(f"{self.out_of_order_rows} rows out of order: sorted")
        if self.date_mismatches or self.twelve_hour_dates:
            p.append(
                f"date column {self.date_column!r} ignored for the unix column: {self.twelve_hour_dates} "
                f"12h-clock dates, {self.date_mismatches} disagree with the unix time"
            )
        if self.invalid_rows_dropped:
            p.append(f"{self.invalid_rows_dropped} rows with invalid values (price/OHLC/rate) dropped")
        if self.values_estimated:
            p.append(
                f"{self.values_estimated} NaN volume/turnover values estimated from the other x typical price"
            )
        if self.misaligned_rows:
            p.append(f"{self.misaligned_rows} bars off the {self.interval} interval grid dropped")
        return p

    @property
    def dirty(self) -> bool:
        """True when anything had to be fixed or dropped (gaps, outliers and open bars are not dirt)."""
        return bool(self.problems)

    @property
    def quality(self) -> QualityReport:
        """The validation events as a `QualityReport`."""
        return QualityReport.from_events(self.events)

    def summary(self) -> str:
        """A short multi-line text for logs and CLI output."""
        lines = [
            f"{self.path} [{self.layout}] {self.symbol} {self.interval or ''}: "
            f"{self.rows_read} rows read, {self.rows_loaded} loaded"
        ]
        lines += [f"  fixed: {p}" for p in self.problems]
        if self.missing_starts:
            lines.append(
                f"  gaps: {len(self.missing_starts)} missing starts (first {self.missing_starts[:3]})"
            )
        if self.outliers_flagged:
            lines.append(f"  outliers flagged: {self.outliers_flagged} (dropped {self.outliers_dropped})")
        if self.open_bars_dropped:
            lines.append(f"  still-open bars dropped: {self.open_bars_dropped}")
        if self.estimated_fields:
            lines.append(f"  estimated from typical price: {', '.join(self.estimated_fields)}")
        return "\n".join(lines)


__all__ = [
    "Completeness",
    "DirtyDataError",
    "LoadReport",
    "QualityEvent",
    "QualityKind",
    "QualityReport",
    "Severity",
    "ValidationConfig",
]
