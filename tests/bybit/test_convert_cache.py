"""The kline conversion reuses candles across polls; the result must always equal a fresh conversion."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from asym.bybit.convert import market as cm
from asym.domain import Candle, Category, Interval

SPAN = Interval.M1.ms


def _fresh(rows: list[list[str]], now_ms: int) -> list[Candle]:
    """Reference: every row converted from scratch, no cache."""
    out = []
    for row in reversed(rows):
        start = int(row[0])
        out.append(
            Candle(
                symbol="X",
                interval=Interval.M1,
                start=start,
                open=Decimal(row[1]),
                high=Decimal(row[2]),
                low=Decimal(row[3]),
                close=Decimal(row[4]),
                volume=Decimal(row[5]),
                turnover=Decimal(row[6]),
                confirmed=start + SPAN <= now_ms,
            )
        )
    return out


@st.composite
def _polls(draw: st.DrawFn) -> list[tuple[list[list[str]], int]]:
    """Successive poll answers of one series: the market moves on, the open candle changes, sometimes a
    closed candle is revised, the window length varies."""
    history: dict[int, list[str]] = {}
    polls = []
    now = 100 * SPAN + draw(st.integers(0, SPAN - 1))
    for _ in range(draw(st.integers(1, 8))):
        now += draw(st.sampled_from([0, 1, SPAN // 2, SPAN, 3 * SPAN]))
        newest = now // SPAN
        for i in range(newest - 30, newest + 1):
            if i not in history or i == newest or draw(st.integers(0, 20)) == 0:
                v = str(draw(st.integers(1, 99)))
                history[i] = [str(i * SPAN), v, v, v, v, str(draw(st.integers(0, 9))), "1.5"]
        limit = draw(st.integers(1, 25))
        rows = [list(history[i]) for i in range(newest, newest - limit, -1)]  # newest first, fresh lists
        polls.append((rows, now))
    return polls


@settings(max_examples=200, deadline=None)
@given(_polls())
def test_cached_conversion_equals_fresh_conversion(polls: list[tuple[list[list[str]], int]]) -> None:
    cm.clear_caches()
    for rows, now in polls:
        assert cm.candles(rows, "X", Interval.M1, Category.LINEAR, now) == _fresh(rows, now)


def test_reuse_really_happens_on_a_shifted_window() -> None:
    cm.clear_caches()
    rows = [[str(i * SPAN), "1", "2", "0.5", "1.5", "3", "4"] for i in range(50, 0, -1)]
    first = cm.candles(rows, "Y", Interval.M1, Category.LINEAR, 50 * SPAN + 10)
    shifted = [[str(51 * SPAN), "1", "1", "1", "1", "0", "0"], *rows[:-1]]
    second = cm.candles(shifted, "Y", Interval.M1, Category.LINEAR, 51 * SPAN + 10)
    assert [c.start for c in second] == [c.start for c in first[1:]] + [51 * SPAN]
    assert all(a is b for a, b in zip(second[:-2], first[1:-1], strict=True))  # the same objects
    assert first[-1].confirmed is False and second[-2].confirmed is True  # the old open candle closed
