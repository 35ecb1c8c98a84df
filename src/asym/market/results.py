"""What a collection cycle produces, where it goes, and what "complete" means for it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from asym.analytics import AssetInputs
from asym.analytics.types import EnhancedData
from asym.domain import Candle
from asym.market.config import CollectorConfig
from asym.market.quality import Completeness, QualityEvent, QualityReport


class CycleSink(Protocol):
    """Where collected data goes (the store, a recorder, a test).

    Candles are handed over per symbol as soon as they are fetched, not held for the end of the cycle:
    a first cycle over 500 symbols fetches about 244,000 of them, which as Decimal domain objects would be
    about 150 MB alive at once."""

    async def write_candles(self, candles: Sequence[Candle]) -> None:
        """Persist (or buffer) candles fetched for one symbol; must be idempotent."""
        ...

    async def write_cycle(self, result: CycleResult) -> None:
        """Persist one cycle (and whatever candles are still buffered); must be idempotent."""
        ...


@dataclass(frozen=True, slots=True)
class SymbolResult:
    """One symbol's collected inputs, the enhanced data made from them and what was wrong."""

    symbol: str
    inputs: AssetInputs
    enhanced: EnhancedData
    events: tuple[QualityEvent, ...]
    candles_fetched: int = 0
    """How many candles were fetched for this symbol in this cycle (handed to the sink as they came)."""


@dataclass(frozen=True, slots=True)
class CycleResult:
    """The outcome of one collection cycle."""

    cycle: int
    started_ms: int
    finished_ms: int
    universe: tuple[str, ...]
    results: tuple[SymbolResult, ...]
    completeness: Completeness
    requests: int
    """Requests made to the venue (a reference exchange's are not counted: not the venue's limit)."""
    failures: dict[str, int] = field(default_factory=dict)
    """Failed requests by kind (e.g. 'klines:RetryableError', 'reference:RetryableError')."""

    @property
    def duration_s(self) -> float:
        """Wall time the cycle took."""
        return (self.finished_ms - self.started_ms) / 1000

    @property
    def quality(self) -> QualityReport:
        """Every quality event of the cycle."""
        return QualityReport.from_events(e for r in self.results for e in r.events)


def expected_fields(config: CollectorConfig) -> list[str]:
    """The fields every symbol of a cycle should have (the completeness check's columns)."""
    fields = ["ticker", "book", "funding", "open_interest", "long_short_ratio"]
    fields += [f"candles_{iv.value}" for iv in config.candles]
    if config.streams:
        fields.append("liquidations")
    return fields


def observed_fields(inputs: AssetInputs, config: CollectorConfig) -> dict[str, object]:
    """What one symbol's inputs hold for each of `expected_fields` (None when absent)."""
    out: dict[str, object] = {
        "ticker": inputs.ticker,
        "book": inputs.book,
        "funding": inputs.funding_history,
        "open_interest": inputs.open_interest_history,
        "long_short_ratio": inputs.long_short_history,
        "liquidations": inputs.liquidations,
    }
    for iv in config.candles:
        out[f"candles_{iv.value}"] = inputs.candles.get(iv.value) or None
    return out
