"""`Portfolio`: positions, balance, P&L, equity, peak and drawdown, daily P&L, from fills and marks.

Pure and exact: every amount is Decimal. Average-cost accounting, as Bybit does it:

    open/add     size += q, cost += q x price                      (cost = |size| x avg price)
    reduce by r  removed = cost x r / |size| (all of cost on a full close, so round trips are exact)
                 realised += sign x (r x price - removed)           (sign +1 long, -1 short)
    flip         close |size| as above, then open the rest at the fill price
    fees         balance -= fee (negative fee = rebate); funding: balance -= funding fee (negative = received)
    unrealised   sign x (|size| x mark - cost);  equity = balance + sum(unrealised)
    drawdown     (peak - equity) / peak;  daily P&L = equity - equity at the first event of the UTC day
"""

from __future__ import annotations

import functools
from collections import deque
from collections.abc import Callable, Iterable
from decimal import Context, Decimal, localcontext
from enum import StrEnum
from typing import ParamSpec, TypeVar

import msgspec

from asym.domain import ExecType, Execution, Position, Side, WalletBalance
from asym.errors import DataError
from asym.trading.views import Exposure

_ZERO = Decimal(0)
DAY_MS = 86_400_000
_COST_QUANTUM = Decimal("1e-20")
"""A pro-rata cost reduction is rounded to this (far below any venue's precision); the rest of the cost
stays on the position, so a round trip realises exactly sum(exits) - sum(entries)."""
_EXACT = Context(prec=60)
_P = ParamSpec("_P")
_R = TypeVar("_R")


def _exact(fn: Callable[_P, _R]) -> Callable[_P, _R]:
    """Run `fn` with 60 significant digits, so sums of venue amounts never round."""

    @functools.wraps(fn)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with localcontext(_EXACT):
            return fn(*args, **kwargs)

    return wrapper


_FILL_TYPES = frozenset({ExecType.TRADE, ExecType.BUST_TRADE, ExecType.ADL_TRADE})


class PositionState(msgspec.Struct, frozen=True, kw_only=True):
    """One symbol's position as the portfolio books it."""

    symbol: str
    size: Decimal
    """Signed: > 0 long, < 0 short, 0 flat."""
    cost: Decimal
    """|size| x average entry price (exact sum of the open fills' values, less pro-rata reductions)."""
    realised_pnl: Decimal
    """Price P&L of every reduction so far (before fees and funding)."""
    fees: Decimal
    funding: Decimal
    """Funding paid (negative: received)."""
    mark: Decimal | None

    @property
    def side(self) -> Side | None:
        """Buy for long, Sell for short, None when flat."""
        return None if self.size == 0 else (Side.BUY if self.size > 0 else Side.SELL)

    @property
    def avg_price(self) -> Decimal:
        """Average entry price (0 when flat)."""
        if self.size == 0:
            return _ZERO
        with localcontext() as ctx:
            ctx.prec = 50
            return self.cost / abs(self.size)

    @property
    def unrealised_pnl(self) -> Decimal:
        """sign x (|size| x mark - cost); 0 while no mark is known."""
        if self.size == 0 or self.mark is None:
            return _ZERO
        sign = 1 if self.size > 0 else -1
        return sign * (abs(self.size) * self.mark - self.cost)

    @property
    def notional(self) -> Decimal:
        """|size| x mark (x avg price while no mark is known)."""
        return abs(self.size) * self.mark if self.mark is not None else self.cost


class EquityPoint(msgspec.Struct, frozen=True, kw_only=True):
    """Equity at one instant."""

    ts: int
    equity: Decimal
    balance: Decimal
    unrealised: Decimal


class DiscrepancyKind(StrEnum):
    """How the local books differ from the venue."""

    MISSING_LOCAL = "missing_local"
    """The venue has a position the portfolio does not."""
    MISSING_VENUE = "missing_venue"
    """The portfolio has a position the venue does not."""
    SIZE_MISMATCH = "size_mismatch"
    AVG_PRICE_MISMATCH = "avg_price_mismatch"
    BALANCE_MISMATCH = "balance_mismatch"


class Discrepancy(msgspec.Struct, frozen=True, kw_only=True):
    """One difference between the local books and the venue, with both numbers."""

    kind: DiscrepancyKind
    symbol: str
    local: Decimal
    venue: Decimal
    detail: str


class Portfolio:
    """Positions, balance and P&L of one account, fed by executions and marks (times in ms)."""

    def __init__(
        self,
        initial_balance: Decimal,
        now_ms: int,
        *,
        settle_coin: str = "USDT",
        history_limit: int = 10_000,
    ) -> None:
        if not initial_balance.is_finite() or initial_balance < 0:
            raise DataError(f"initial balance must be a finite amount >= 0, got {initial_balance}")
        self.settle_coin = settle_coin
        self._balance = initial_balance
        self._pos: dict[str, PositionState] = {}
        self._seen_exec: set[str] = set()
        self.total_fees = _ZERO
        self.total_funding = _ZERO
        self.total_realised = _ZERO
        self.last_exec_ms = 0
        self._day = now_ms // DAY_MS
        self._day_start_equity = initial_balance
        self._peak = initial_balance
        self.history: deque[EquityPoint] = deque(maxlen=history_limit)

    # --- events ----------------------------------------------------------------------------------------

    @_exact
    def apply_execution(self, ex: Execution) -> bool:
        """Book one execution (fill or funding); False for a duplicate execId or a kind not booked."""
        if ex.exec_id in self._seen_exec:
            return False
        if ex.exec_type not in _FILL_TYPES and ex.exec_type is not ExecType.FUNDING:
            return False
        for name, v in (("qty", ex.qty), ("price", ex.price), ("fee", ex.fee)):
            if not v.is_finite():
                raise DataError(f"execution {ex.exec_id}: {name} is not finite ({v})")
        if ex.exec_type in _FILL_TYPES and (ex.qty <= 0 or ex.price <= 0):
            raise DataError(
                f"execution {ex.exec_id}: fill needs qty > 0 and price > 0, got {ex.qty} @ {ex.price}"
            )
        self._roll_day(ex.ts)
        self._seen_exec.add(ex.exec_id)
        self.last_exec_ms = max(self.last_exec_ms, ex.ts)
        if ex.exec_type is ExecType.FUNDING:
            self._funding(ex)
        else:
            self._fill(ex)
        self._update_peak()
        return True

    @_exact
    def update_mark(self, symbol: str, mark: Decimal, ts: int) -> None:
        """New mark price of `symbol` (revalues its unrealised P&L)."""
        if not mark.is_finite() or mark <= 0:
            raise DataError(f"{symbol}: mark must be a finite positive price, got {mark}")
        self._roll_day(ts)
        p = self._get(symbol)
        self._pos[symbol] = msgspec.structs.replace(p, mark=mark)
        self._update_peak()

    @_exact
    def transfer(self, amount: Decimal, ts: int) -> None:
        """A deposit (> 0) or withdrawal (< 0): moves balance, day start and peak alike (not P&L)."""
        if not amount.is_finite():
            raise DataError(f"transfer amount must be finite, got {amount}")
        self._roll_day(ts)
        self._balance += amount
        self._day_start_equity += amount
        self._peak += amount

    @_exact
    def record_equity(self, now_ms: int) -> EquityPoint:
        """Append the current equity to the history (and return it)."""
        self._roll_day(now_ms)
        point = EquityPoint(
            ts=now_ms, equity=self.equity, balance=self._balance, unrealised=self.unrealised_pnl
        )
        self.history.append(point)
        return point

    @_exact
    def reset_peak(self) -> None:
        """Set the peak to the current equity (by hand, after a drawdown has been acknowledged)."""
        self._peak = self.equity

    # --- views -----------------------------------------------------------------------------------------

    @property
    def balance(self) -> Decimal:
        """Wallet balance: initial + transfers + realised P&L - fees - funding paid."""
        return self._balance

    @property
    @_exact
    def unrealised_pnl(self) -> Decimal:
        """Sum of unrealised P&L at the latest marks."""
        return sum((p.unrealised_pnl for p in self._pos.values()), _ZERO)

    @property
    @_exact
    def equity(self) -> Decimal:
        """Balance + unrealised P&L."""
        return self._balance + self.unrealised_pnl

    @property
    def peak_equity(self) -> Decimal:
        """Highest equity seen (transfers shift it)."""
        return self._peak

    @property
    def drawdown(self) -> Decimal:
        """(peak - equity) / peak, 0 at or above the peak."""
        if self._peak <= 0:
            return _ZERO
        return max(_ZERO, (self._peak - self.equity) / self._peak)

    @_exact
    def day_start_equity(self, now_ms: int) -> Decimal:
        """Equity at the start of the UTC day of `now_ms` (first event of that day)."""
        self._roll_day(now_ms)
        return self._day_start_equity

    @_exact
    def daily_pnl(self, now_ms: int) -> Decimal:
        """Equity change since the start of the UTC day of `now_ms`."""
        self._roll_day(now_ms)
        return self.equity - self._day_start_equity

    def position(self, symbol: str) -> PositionState | None:
        """The booked position of `symbol`, or None if it never traded."""
        return self._pos.get(symbol)

    def positions(self) -> list[PositionState]:
        """Open (non-zero) positions."""
        return [p for p in self._pos.values() if p.size != 0]

    @_exact
    def exposures(self) -> list[Exposure]:
        """Notional of every open position (for the risk engine's caps)."""
        return [
            Exposure(symbol=p.symbol, side=Side.BUY if p.size > 0 else Side.SELL, notional=p.notional)
            for p in self.positions()
        ]

    # --- venue reconciliation --------------------------------------------------------------------------

    @_exact
    def reconcile(
        self,
        venue_positions: Iterable[Position],
        venue_wallet: WalletBalance | None,
        *,
        avg_price_rel_tol: Decimal = Decimal("0.000001"),
        balance_tol: Decimal = Decimal("0.01"),
    ) -> list[Discrepancy]:
        """Every difference between these books and the venue's positions and wallet."""
        out: list[Discrepancy] = []
        venue = {p.symbol: p for p in venue_positions}
        for sym in sorted(set(venue) | {p.symbol for p in self.positions()}):
            out.extend(self._compare(sym, venue.get(sym), avg_price_rel_tol))
        if venue_wallet is not None:
            vb = self._venue_balance(venue_wallet)
            if abs(vb - self._balance) > balance_tol:
                out.append(
                    Discrepancy(
                        kind=DiscrepancyKind.BALANCE_MISMATCH,
                        symbol="",
                        local=self._balance,
                        venue=vb,
                        detail=f"{self.settle_coin} wallet balance differs by {vb - self._balance} "
                        f"(tolerance {balance_tol})",
                    )
                )
        return out

    @_exact
    def adopt_position(self, position: Position) -> None:
        """Take the venue's size and average price for `position.symbol` (realised, fees kept)."""
        p = self._get(position.symbol)
        size = position.signed_size
        self._pos[position.symbol] = msgspec.structs.replace(
            p,
            size=size,
            cost=abs(size) * position.avg_price,
            mark=position.mark_price if position.mark_price > 0 else p.mark,
        )
        self._update_peak()

    @_exact
    def adopt_balance(self, wallet: WalletBalance) -> None:
        """Take the venue's wallet balance as the truth (the difference shows up as P&L)."""
        self._balance = self._venue_balance(wallet)
        self._update_peak()

    # --- internals -------------------------------------------------------------------------------------

    def _venue_balance(self, wallet: WalletBalance) -> Decimal:
        for c in wallet.coins:
            if c.coin == self.settle_coin:
                return c.wallet_balance
        return wallet.total_wallet_balance

    def _compare(self, sym: str, vp: Position | None, rel_tol: Decimal) -> list[Discrepancy]:
        lp = self._pos.get(sym)
        local = lp.size if lp is not None else _ZERO
        remote = vp.signed_size if vp is not None else _ZERO
        if local == 0 and remote == 0:
            return []
        if local == 0:
            return [
                Discrepancy(
                    kind=DiscrepancyKind.MISSING_LOCAL,
                    symbol=sym,
                    local=local,
                    venue=remote,
                    detail=f"venue holds {remote} {sym}, the books hold nothing",
                )
            ]
        if remote == 0:
            return [
                Discrepancy(
                    kind=DiscrepancyKind.MISSING_VENUE,
                    symbol=sym,
                    local=local,
                    venue=remote,
                    detail=f"the books hold {local} {sym}, the venue nothing",
                )
            ]
        if local != remote:
            return [
                Discrepancy(
                    kind=DiscrepancyKind.SIZE_MISMATCH,
                    symbol=sym,
                    local=local,
                    venue=remote,
                    detail=f"size {local} in the books, {remote} at the venue",
                )
            ]
        assert lp is not None and vp is not None
        la, va = lp.avg_price, vp.avg_price
        if abs(la - va) > rel_tol * va:
            return [
                Discrepancy(
                    kind=DiscrepancyKind.AVG_PRICE_MISMATCH,
                    symbol=sym,
                    local=la,
                    venue=va,
                    detail=f"average price {la} in the books, {va} at the venue",
                )
            ]
        return []

    def _get(self, symbol: str) -> PositionState:
        p = self._pos.get(symbol)
        if p is None:
            p = PositionState(
                symbol=symbol,
                size=_ZERO,
                cost=_ZERO,
                realised_pnl=_ZERO,
                fees=_ZERO,
                funding=_ZERO,
                mark=None,
            )
        return p

    def _roll_day(self, ts: int) -> None:
        day = ts // DAY_MS
        if day > self._day:
            # The first event of a new UTC day: equity before it is that day's starting equity.
            self._day = day
            self._day_start_equity = self.equity

    def _update_peak(self) -> None:
        eq = self.equity
        if eq > self._peak:
            self._peak = eq

    def _funding(self, ex: Execution) -> None:
        p = self._get(ex.symbol)
        self._pos[ex.symbol] = msgspec.structs.replace(p, funding=p.funding + ex.fee)
        self._balance -= ex.fee
        self.total_funding += ex.fee

    def _fill(self, ex: Execution) -> None:
        p = self._get(ex.symbol)
        q, price, sign = ex.qty, ex.price, ex.side.sign
        size, cost, realised = p.size, p.cost, p.realised_pnl
        if size == 0 or (size > 0) == (sign > 0):
            size += q * sign
            cost += q * price
        else:
            held = abs(size)
            closing = min(q, held)
            removed = cost if closing == held else (cost * closing / held).quantize(_COST_QUANTUM)
            pos_sign = 1 if size > 0 else -1
            pnl = pos_sign * (closing * price - removed)
            realised += pnl
            self._balance += pnl
            self.total_realised += pnl
            cost -= removed
            size += closing * sign
            rest = q - closing
            if rest > 0:
                # Flip: the remainder opens a new position at the fill price.
                size = rest * sign
                cost = rest * price
        self._balance -= ex.fee
        self.total_fees += ex.fee
        self._pos[ex.symbol] = msgspec.structs.replace(
            p, size=size, cost=cost if size != 0 else _ZERO, realised_pnl=realised, fees=p.fees + ex.fee
        )
