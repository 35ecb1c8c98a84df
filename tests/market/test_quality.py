"""QualityReport aggregation and the flags handed to EnhancedData."""

from __future__ import annotations

import msgspec

from asym.market.quality import QualityEvent, QualityKind, QualityReport, Severity


def ev(symbol: str, source: str, field: str, kind: QualityKind, sev: Severity) -> QualityEvent:
    return QualityEvent(ts=1, symbol=symbol, source=source, field=field, kind=kind, severity=sev, detail="d")


EVENTS = [
    ev("BTCUSDT", "book", "bids", QualityKind.CROSSED_BOOK, Severity.ERROR),
    ev("BTCUSDT", "ticker", "ts", QualityKind.STALE, Severity.WARNING),
    ev("BTCUSDT", "ticker", "ts", QualityKind.STALE, Severity.WARNING),
    ev("BTCUSDT", "funding_rate", "funding_rate", QualityKind.MISSING, Severity.INFO),
    ev("ETHUSDT", "book", "asks", QualityKind.EMPTY_BOOK, Severity.ERROR),
]


def test_counts_and_flagged_fields() -> None:
    r = QualityReport.from_events(EVENTS)
    assert r.counts_by_kind == {"crossed_book": 1, "empty_book": 1, "missing": 1, "stale": 2}
    assert r.counts_by_severity == {"error": 2, "info": 1, "warning": 2}
    assert r.flagged_fields == {
        "BTCUSDT": ("book.bids", "funding_rate.funding_rate", "ticker.ts"),
        "ETHUSDT": ("book.asks",),
    }
    assert r.has_errors and r.count(QualityKind.STALE) == 2
    assert len(r.for_symbol("ETHUSDT")) == 1


def test_flags_for_enhanced_data_respect_severity() -> None:
    r = QualityReport.from_events(EVENTS)
    assert r.flags_for("BTCUSDT") == ("book_crossed_book", "ticker_stale")
    assert r.flags_for("BTCUSDT", Severity.INFO) == (
        "book_crossed_book",
        "funding_rate_missing",
        "ticker_stale",
    )
    assert r.flags_for("BTCUSDT", Severity.ERROR) == ("book_crossed_book",)
    assert r.flags_for("SOLUSDT") == ()


def test_merge_and_empty_report() -> None:
    a = QualityReport.from_events(EVENTS[:2])
    b = QualityReport.from_events(EVENTS[2:])
    assert a.merge(b) == QualityReport.from_events(EVENTS)
    empty = QualityReport.from_events([])
    assert not empty.has_errors and empty.counts_by_kind == {}


def test_events_and_reports_serialise_to_json_and_back() -> None:
    r = QualityReport.from_events(EVENTS)
    back = msgspec.json.decode(msgspec.json.encode(r), type=QualityReport)
    assert back == r
    assert msgspec.json.decode(msgspec.json.encode(EVENTS[0]))["kind"] == "crossed_book"
