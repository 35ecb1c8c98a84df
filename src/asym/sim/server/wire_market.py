"""Market objects of the simulator core -> Bybit V5 JSON values (dicts/lists of strings, numbers, bools).

Pure formatting. Prices and sizes are written with the instrument's tick/step decimals (`Scale.to_str`,
cached), so the same price is always the same string on REST and on every WebSocket topic.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from asym.domain import RiskLimitTier
from asym.sim.market.trades import TICK_DIRECTIONS
from asym.sim.types import (
    BookView,
    FundingRow,
    KlineRow,
    LiquidationEvent,
    OpenInterestRow,
    PremiumRow,
    PriceKind,
    RatioRow,
    SimInstrument,
    TickerView,
    TradeEvent,
)

_Q2 = Decimal("0.01")
_Q4 = Decimal("0.0001")
_Q6 = Decimal("0.000001")
_Q8 = Decimal("0.00000001")


def dec(value: Decimal) -> str:
    """A Decimal as Bybit writes a computed value: plain notation, no exponent, no trailing zeros."""
    s = format(value, "f")
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    if s in ("-0", ""):
        s = "0"
    return s


def fixed(value: Decimal, quantum: Decimal) -> str:
    """A Decimal rounded to `quantum` and written with exactly that many decimals."""
    return format(value.quantize(quantum, rounding=ROUND_HALF_EVEN), "f")


def qty_dec(inst: SimInstrument, value: Decimal) -> str:
    """A base-coin amount with the instrument's qty decimals."""
    return fixed(value, Decimal(1).scaleb(-inst.qty.decimals))


def instrument_item(inst: SimInstrument, symbol_id: int) -> dict[str, Any]:
    """One linear instruments-info item."""
    info = inst.info
    p = inst.price
    q = inst.qty
    return {
        "symbol": info.symbol,
        "symbolId": symbol_id,
        "contractType": info.contract_type,
        "status": info.status,
        "baseCoin": info.base_coin,
        "quoteCoin": info.quote_coin,
        "launchTime": str(info.launch_time),
        "deliveryTime": "0",
        "deliveryFeeRate": "",
        "priceScale": str(info.price_scale),
        "leverageFilter": {
            "minLeverage": dec(info.min_leverage),
            "maxLeverage": fixed(info.max_leverage, _Q2),
            "leverageStep": dec(info.leverage_step),
        },
        "priceFilter": {
            "minPrice": p.to_str(p.round_int(info.min_price)),
            "maxPrice": p.to_str(p.round_int(info.max_price)),
            "tickSize": p.to_str(1),
        },
        "lotSizeFilter": {
            "maxOrderQty": q.to_str(q.round_int(info.max_order_qty)),
            "minOrderQty": q.to_str(q.round_int(info.min_order_qty)),
            "qtyStep": q.to_str(1),
            "postOnlyMaxOrderQty": q.to_str(q.round_int(info.max_order_qty)),
            "maxMktOrderQty": q.to_str(q.round_int(info.max_mkt_order_qty)),
            "minNotionalValue": dec(info.min_notional),
        },
        "unifiedMarginTrade": True,
        "fundingInterval": info.funding_interval_min,
        "settleCoin": info.settle_coin,
        "copyTrading": "both",
        "upperFundingRate": dec(info.upper_funding_rate),
        "lowerFundingRate": dec(info.lower_funding_rate),
        "displayName": "",
        "forbidUplWithdrawal": False,
        "riskParameters": {"priceLimitRatioX": "0.01", "priceLimitRatioY": "0.02"},
        "isPreListing": False,
        "preListingInfo": None,
        "symbolType": "",
    }


def ticker_item(inst: SimInstrument, t: TickerView) -> dict[str, Any]:
    """One linear REST tickers item (all strings)."""
    p = inst.price.to_str
    mark_d = inst.price.to_decimal(t.mark)
    if t.prev_price_24h:
        pcnt = fixed((Decimal(t.last) - Decimal(t.prev_price_24h)) / Decimal(t.prev_price_24h), _Q6)
    else:
        pcnt = "0"
    return {
        "symbol": t.symbol,
        "lastPrice": p(t.last),
        "indexPrice": p(t.index),
        "markPrice": p(t.mark),
        "prevPrice24h": p(t.prev_price_24h),
        "price24hPcnt": pcnt,
        "highPrice24h": p(t.high_24h),
        "lowPrice24h": p(t.low_24h),
        "prevPrice1h": p(t.prev_price_1h),
        "openInterest": qty_dec(inst, t.open_interest),
        "openInterestValue": fixed(t.open_interest * mark_d, _Q2),
        "turnover24h": fixed(t.turnover_24h, _Q4),
        "volume24h": qty_dec(inst, t.volume_24h),
        "fundingRate": dec(t.funding_rate),
        "nextFundingTime": str(t.next_funding_time),
        "predictedDeliveryPrice": "",
        "basisRate": "",
        "deliveryFeeRate": "",
        "deliveryTime": "0",
        "ask1Size": inst.qty.to_str(t.ask1_size),
        "bid1Price": p(t.bid1),
        "ask1Price": p(t.ask1),
        "bid1Size": inst.qty.to_str(t.bid1_size),
        "basis": "",
        "preOpenPrice": "",
        "preQty": "",
        "curPreListingPhase": "",
        "fundingIntervalHour": str(t.funding_interval_hours),
        "basisRateYear": "",
        "fundingCap": dec(t.funding_cap),
    }


WS_TICKER_FIELDS = (
    "tickDirection",
    "price24hPcnt",
    "lastPrice",
    "prevPrice24h",
    "highPrice24h",
    "lowPrice24h",
    "prevPrice1h",
    "markPrice",
    "indexPrice",
    "openInterest",
    "openInterestValue",
    "turnover24h",
    "volume24h",
    "fundingIntervalHour",
    "fundingCap",
    "nextFundingTime",
    "fundingRate",
    "bid1Price",
    "bid1Size",
    "ask1Price",
    "ask1Size",
    "preOpenPrice",
    "preQty",
    "curPreListingPhase",
)


class TickerFormatter:
    """Formats one symbol's tickers like `ticker_item` / `ws_ticker_data`, reusing the strings of values
    that did not change since the previous ticker (most fields change a few times a minute; prices come
    from the cached Scale strings), so a ticker costs a few dict lookups plus the fields that moved."""

    __slots__ = ("_memo", "inst")

    def __init__(self, inst: SimInstrument) -> None:
        self.inst = inst
        self._memo: dict[str, tuple[Any, str]] = {}

    def _fmt(self, name: str, value: Any, fn: Any) -> str:
        hit = self._memo.get(name)
        if hit is not None and hit[0] == value:
            return hit[1]
        text: str = fn(value)
        self._memo[name] = (value, text)
        return text

    def _pcnt(self, key: tuple[int, int]) -> str:
        last, prev = key
        return fixed((Decimal(last) - Decimal(prev)) / Decimal(prev), _Q6) if prev else "0"

    def fields(self, t: TickerView) -> dict[str, str]:
        """Every field of the REST ticker item (all strings)."""
        inst = self.inst
        p = inst.price.to_str
        q = inst.qty.to_str
        fmt = self._fmt
        mark_d = inst.price.to_decimal
        return {
            "symbol": t.symbol,
            "lastPrice": p(t.last),
            "indexPrice": p(t.index),
            "markPrice": p(t.mark),
            "prevPrice24h": p(t.prev_price_24h),
            "price24hPcnt": fmt("pcnt", (t.last, t.prev_price_24h), self._pcnt),
            "highPrice24h": p(t.high_24h),
            "lowPrice24h": p(t.low_24h),
            "prevPrice1h": p(t.prev_price_1h),
            "openInterest": fmt("oi", t.open_interest, lambda v: qty_dec(inst, v)),
            "openInterestValue": fmt(
                "oiv", (t.open_interest, t.mark), lambda k: fixed(k[0] * mark_d(k[1]), _Q2)
            ),
            "turnover24h": fmt("turnover", t.turnover_24h, lambda v: fixed(v, _Q4)),
            "volume24h": fmt("volume", t.volume_24h, lambda v: qty_dec(inst, v)),
            "fundingRate": fmt("funding", t.funding_rate, dec),
            "nextFundingTime": fmt("next", t.next_funding_time, str),
            "predictedDeliveryPrice": "",
            "basisRate": "",
            "deliveryFeeRate": "",
            "deliveryTime": "0",
            "ask1Size": q(t.ask1_size),
            "bid1Price": p(t.bid1),
            "ask1Price": p(t.ask1),
            "bid1Size": q(t.bid1_size),
            "basis": "",
            "preOpenPrice": "",
            "preQty": "",
            "curPreListingPhase": "",
            "fundingIntervalHour": fmt("hours", t.funding_interval_hours, str),
            "basisRateYear": "",
            "fundingCap": fmt("cap", t.funding_cap, dec),
        }

    def ws(self, t: TickerView) -> dict[str, str]:
        """The `tickers.{symbol}` data object (as `ws_ticker_data`)."""
        rest = self.fields(t)
        data = {"symbol": t.symbol, "tickDirection": t.tick_direction}
        for key in WS_TICKER_FIELDS[1:]:
            data[key] = rest[key]
        return data

    def ws_update(self, prev: TickerView, t: TickerView, data: dict[str, str]) -> dict[str, str]:
        """The `tickers` fields whose strings changed from `data` (the data of `prev`, updated in place to
        `t`'s), in `WS_TICKER_FIELDS` order: only the raw values that moved are formatted."""
        changed: dict[str, str] = {}
        inst = self.inst
        p = inst.price.to_str
        q = inst.qty.to_str
        fmt = self._fmt

        def put(key: str, text: str) -> None:
            if data[key] != text:
                data[key] = text
                changed[key] = text

        last_moved = t.last != prev.last
        if t.tick_direction != prev.tick_direction:
            put("tickDirection", t.tick_direction)
        if last_moved or t.prev_price_24h != prev.prev_price_24h:
            put("price24hPcnt", fmt("pcnt", (t.last, t.prev_price_24h), self._pcnt))
        if last_moved:
            put("lastPrice", p(t.last))
        if t.prev_price_24h != prev.prev_price_24h:
            put("prevPrice24h", p(t.prev_price_24h))
        if t.high_24h != prev.high_24h:
            put("highPrice24h", p(t.high_24h))
        if t.low_24h != prev.low_24h:
            put("lowPrice24h", p(t.low_24h))
        if t.prev_price_1h != prev.prev_price_1h:
            put("prevPrice1h", p(t.prev_price_1h))
        if t.mark != prev.mark:
            put("markPrice", p(t.mark))
        if t.index != prev.index:
            put("indexPrice", p(t.index))
        oi_moved = t.open_interest != prev.open_interest
        if oi_moved:
            put("openInterest", fmt("oi", t.open_interest, lambda v: qty_dec(inst, v)))
        if oi_moved or t.mark != prev.mark:
            mark_d = inst.price.to_decimal
            put(
                "openInterestValue",
                fmt("oiv", (t.open_interest, t.mark), lambda k: fixed(k[0] * mark_d(k[1]), _Q2)),
            )
        if t.turnover_24h != prev.turnover_24h:
            put("turnover24h", fmt("turnover", t.turnover_24h, lambda v: fixed(v, _Q4)))
        if t.volume_24h != prev.volume_24h:
            put("volume24h", fmt("volume", t.volume_24h, lambda v: qty_dec(inst, v)))
        if t.funding_interval_hours != prev.funding_interval_hours:
            put("fundingIntervalHour", str(t.funding_interval_hours))
        if t.funding_cap != prev.funding_cap:
            put("fundingCap", dec(t.funding_cap))
        if t.next_funding_time != prev.next_funding_time:
            put("nextFundingTime", str(t.next_funding_time))
        if t.funding_rate != prev.funding_rate:
            put("fundingRate", fmt("funding", t.funding_rate, dec))
        if t.bid1 != prev.bid1:
            put("bid1Price", p(t.bid1))
        if t.bid1_size != prev.bid1_size:
            put("bid1Size", q(t.bid1_size))
        if t.ask1 != prev.ask1:
            put("ask1Price", p(t.ask1))
        if t.ask1_size != prev.ask1_size:
            put("ask1Size", q(t.ask1_size))
        return changed


class RawTickerFormatter:
    """Formats one symbol's integer tickers (`Market.ticker_raw`): the same strings as `ticker_item` /
    `ws_ticker_data` of the equivalent TickerView, from integers (money by exact integer rounding)."""

    __slots__ = ("_funding", "_pcnt", "coef", "decimals", "inst")

    def __init__(self, inst: SimInstrument) -> None:
        self.inst = inst
        self.coef = inst.price.coefficient * inst.qty.coefficient
        """Price x qty units are `coef` x 10^-decimals (turnover and open-interest value)."""
        self.decimals = inst.price.decimals + inst.qty.decimals
        self._pcnt: tuple[int, int, str] = (0, 0, "0")
        self._funding: tuple[Decimal, str] = (Decimal(0), "0")

    def pcnt(self, last: int, prev: int) -> str:
        """price24hPcnt: (last - prev) / prev with 6 decimals."""
        hit = self._pcnt
        if hit[0] != last or hit[1] != prev:
            text = fixed((Decimal(last) - Decimal(prev)) / Decimal(prev), _Q6) if prev else "0"
            hit = self._pcnt = (last, prev, text)
        return hit[2]

    def funding(self, rate: Decimal) -> str:
        """fundingRate as Bybit writes a computed value."""
        hit = self._funding
        if hit[0] != rate or hit[1] == "":
            hit = self._funding = (rate, dec(rate))
        return hit[1]

    def oi_value(self, oi: int, mark: int) -> str:
        """openInterestValue: open interest x mark with 2 decimals."""
        return _scaled(max(oi, 0) * mark * self.coef, self.decimals, 2)

    def turnover(self, units: int) -> str:
        """turnover24h with 4 decimals."""
        return _scaled(units * self.coef, self.decimals, 4)

    def fields(self, r: Any) -> dict[str, str]:
        """Every field of the REST ticker item (all strings)."""
        p = self.inst.price.to_str
        q = self.inst.qty.to_str
        return {
            "symbol": r.symbol,
            "lastPrice": p(r.last),
            "indexPrice": p(r.index),
            "markPrice": p(r.mark),
            "prevPrice24h": p(r.prev_price_24h),
            "price24hPcnt": self.pcnt(r.last, r.prev_price_24h),
            "highPrice24h": p(r.high_24h),
            "lowPrice24h": p(r.low_24h),
            "prevPrice1h": p(r.prev_price_1h),
            "openInterest": q(max(r.open_interest, 0)),
            "openInterestValue": self.oi_value(r.open_interest, r.mark),
            "turnover24h": self.turnover(r.turnover_24h),
            "volume24h": q(r.volume_24h),
            "fundingRate": self.funding(r.funding_rate),
            "nextFundingTime": str(r.next_funding_time),
            "predictedDeliveryPrice": "",
            "basisRate": "",
            "deliveryFeeRate": "",
            "deliveryTime": "0",
            "ask1Size": q(r.ask1_size),
            "bid1Price": p(r.bid1),
            "ask1Price": p(r.ask1),
            "bid1Size": q(r.bid1_size),
            "basis": "",
            "preOpenPrice": "",
            "preQty": "",
            "curPreListingPhase": "",
            "fundingIntervalHour": str(r.funding_interval_hours),
            "basisRateYear": "",
            "fundingCap": dec(r.funding_cap),
        }

    def ws(self, r: Any) -> dict[str, str]:
        """The `tickers.{symbol}` data object."""
        rest = self.fields(r)
        data = {"symbol": r.symbol, "tickDirection": TICK_DIRECTIONS[r.tick_dir]}
        for key in WS_TICKER_FIELDS[1:]:
            data[key] = rest[key]
        return data

    def ws_update(self, prev: Any, r: Any, data: dict[str, str]) -> dict[str, str]:
        """The `tickers` fields whose strings changed from `data` (the data of `prev`, updated in place to
        `r`'s), in `WS_TICKER_FIELDS` order: only the values that moved are formatted."""
        changed: dict[str, str] = {}
        p = self.inst.price.to_str
        q = self.inst.qty.to_str

        def put(key: str, text: str) -> None:
            if data[key] != text:
                data[key] = text
                changed[key] = text

        last_moved = r.last != prev.last
        if r.tick_dir != prev.tick_dir:
            put("tickDirection", TICK_DIRECTIONS[r.tick_dir])
        if last_moved or r.prev_price_24h != prev.prev_price_24h:
            put("price24hPcnt", self.pcnt(r.last, r.prev_price_24h))
        if last_moved:
            put("lastPrice", p(r.last))
        if r.prev_price_24h != prev.prev_price_24h:
            put("prevPrice24h", p(r.prev_price_24h))
        if r.high_24h != prev.high_24h:
            put("highPrice24h", p(r.high_24h))
        if r.low_24h != prev.low_24h:
            put("lowPrice24h", p(r.low_24h))
        if r.prev_price_1h != prev.prev_price_1h:
            put("prevPrice1h", p(r.prev_price_1h))
        if r.mark != prev.mark:
            put("markPrice", p(r.mark))
        if r.index != prev.index:
            put("indexPrice", p(r.index))
        oi_moved = r.open_interest != prev.open_interest
        if oi_moved:
            put("openInterest", q(max(r.open_interest, 0)))
        if oi_moved or r.mark != prev.mark:
            put("openInterestValue", self.oi_value(r.open_interest, r.mark))
        if r.turnover_24h != prev.turnover_24h:
            put("turnover24h", self.turnover(r.turnover_24h))
        if r.volume_24h != prev.volume_24h:
            put("volume24h", q(r.volume_24h))
        if r.funding_interval_hours != prev.funding_interval_hours:
            put("fundingIntervalHour", str(r.funding_interval_hours))
        if r.funding_cap != prev.funding_cap:
            put("fundingCap", dec(r.funding_cap))
        if r.next_funding_time != prev.next_funding_time:
            put("nextFundingTime", str(r.next_funding_time))
        if r.funding_rate != prev.funding_rate:
            put("fundingRate", self.funding(r.funding_rate))
        if r.bid1 != prev.bid1:
            put("bid1Price", p(r.bid1))
        if r.bid1_size != prev.bid1_size:
            put("bid1Size", q(r.bid1_size))
        if r.ask1 != prev.ask1:
            put("ask1Price", p(r.ask1))
        if r.ask1_size != prev.ask1_size:
            put("ask1Size", q(r.ask1_size))
        return changed


def ws_ticker_data(inst: SimInstrument, t: TickerView) -> dict[str, str]:
    """The full `tickers.{symbol}` data object (snapshot); deltas carry the changed subset."""
    rest = ticker_item(inst, t)
    data = {"symbol": t.symbol, "tickDirection": t.tick_direction}
    for key in WS_TICKER_FIELDS[1:]:
        data[key] = rest[key]
    return data


def book_levels(inst: SimInstrument, levels: list[tuple[int, int]]) -> list[list[str]]:
    """[[price, size], ...] strings."""
    ps = inst.price.to_str
    qs = inst.qty.to_str
    return [[ps(px), qs(sz)] for px, sz in levels]


def book_result(inst: SimInstrument, book: BookView) -> dict[str, Any]:
    """The REST orderbook result."""
    return {
        "s": book.symbol,
        "b": book_levels(inst, book.bids),
        "a": book_levels(inst, book.asks),
        "ts": book.ts,
        "u": book.update_id,
        "seq": book.seq,
        "cts": book.cts,
    }


def kline_rows(inst: SimInstrument, rows: list[KlineRow], with_volume: bool) -> list[list[str]]:
    """Kline rows `[start, open, high, low, close(, volume, turnover)]`, newest first as given."""
    p = inst.price.to_str
    if with_volume:
        return [
            [
                str(r.start),
                p(r.open),
                p(r.high),
                p(r.low),
                p(r.close),
                qty_dec(inst, r.volume),
                fixed(r.turnover, _Q4),
            ]
            for r in rows
        ]
    return [[str(r.start), p(r.open), p(r.high), p(r.low), p(r.close)] for r in rows]


def _scaled(units: int, decimals: int, places: int) -> str:
    """`units` x 10^-decimals rounded half-even to `places` decimals and written with exactly that many
    (integer arithmetic: equals fixed(Decimal value, 10^-places))."""
    if decimals > places:
        div = 10 ** (decimals - places)
        q, r = divmod(abs(units), div)
        if 2 * r > div or (2 * r == div and q % 2):
            q += 1
        n = q if units >= 0 else -q
    else:
        n = units * 10 ** (places - decimals)
    if n == 0:
        return "0." + "0" * places if places else "0"
    digits = str(abs(n)).rjust(places + 1, "0")
    text = digits[:-places] + "." + digits[-places:] if places else digits
    return "-" + text if n < 0 else text


def kline_table_rows(inst: SimInstrument, table: Any) -> list[list[str]]:
    """Kline rows from a market's integer KlineTable (newest first): the same strings as `kline_rows` /
    `premium_rows` over the equivalent rows, formatted without Decimals."""
    n = len(table.start)
    if table.kind == PriceKind.PREMIUM:
        f = _premium_str
        return [
            [str(table.start[i]), f(table.open[i]), f(table.high[i]), f(table.low[i]), f(table.close[i])]
            for i in range(n)
        ]
    p = inst.price.to_str
    if table.kind != PriceKind.TRADE:
        return [
            [str(table.start[i]), p(table.open[i]), p(table.high[i]), p(table.low[i]), p(table.close[i])]
            for i in range(n)
        ]
    q = inst.qty.to_str
    # Turnover units are ticks x steps: value = units x price coefficient x qty coefficient x 10^-(pd+qd).
    coef = inst.price.coefficient * inst.qty.coefficient
    decimals = inst.price.decimals + inst.qty.decimals
    return [
        [
            str(table.start[i]),
            p(table.open[i]),
            p(table.high[i]),
            p(table.low[i]),
            p(table.close[i]),
            q(table.volume[i]),
            _scaled(table.turnover[i] * coef, decimals, 4),
        ]
        for i in range(n)
    ]


def _premium_str(units: int) -> str:
    return _scaled(units, 6, 6)


def premium_rows(rows: list[PremiumRow]) -> list[list[str]]:
    """Premium-index kline rows (rates with 6 decimals)."""
    return [
        [str(r.start), fixed(r.open, _Q6), fixed(r.high, _Q6), fixed(r.low, _Q6), fixed(r.close, _Q6)]
        for r in rows
    ]


def funding_item(symbol: str, row: FundingRow) -> dict[str, str]:
    """One funding/history item."""
    return {"symbol": symbol, "fundingRate": dec(row.rate), "fundingRateTimestamp": str(row.ts)}


def open_interest_item(row: OpenInterestRow) -> dict[str, str]:
    """One open-interest item (linear: base coin, 8 decimals as Bybit writes it)."""
    return {"openInterest": fixed(row.open_interest, _Q8), "timestamp": str(row.ts)}


def trade_item(inst: SimInstrument, t: TradeEvent) -> dict[str, Any]:
    """One recent-trade item."""
    return {
        "execId": t.trade_id,
        "symbol": t.symbol,
        "price": inst.price.to_str(t.price),
        "size": inst.qty.to_str(t.size),
        "side": str(t.taker_side),
        "time": str(t.ts),
        "isBlockTrade": False,
        "isRPITrade": False,
        "seq": str(t.seq),
    }


def ratio_item(symbol: str, row: RatioRow) -> dict[str, str]:
    """One account-ratio item."""
    return {
        "symbol": symbol,
        "buyRatio": dec(row.buy_ratio),
        "sellRatio": dec(row.sell_ratio),
        "timestamp": str(row.ts),
    }


def risk_limit_item(tier: RiskLimitTier, lowest: bool) -> dict[str, Any]:
    """One risk-limit tier."""
    return {
        "id": tier.tier_id,
        "symbol": tier.symbol,
        "riskLimitValue": dec(tier.risk_limit_value),
        "maintenanceMargin": dec(tier.maintenance_margin),
        "initialMargin": dec(tier.initial_margin),
        "isLowestRisk": 1 if lowest else 0,
        "maxLeverage": fixed(tier.max_leverage, _Q2),
        "mmDeduction": dec(tier.mm_deduction),
    }


def ws_trade(inst: SimInstrument, t: TradeEvent) -> dict[str, Any]:
    """One `publicTrade` entry."""
    return {
        "T": t.ts,
        "s": t.symbol,
        "S": str(t.taker_side),
        "v": inst.qty.to_str(t.size),
        "p": inst.price.to_str(t.price),
        "L": t.tick_direction,
        "i": t.trade_id,
        "BT": False,
        "RPI": False,
        "seq": t.seq,
    }


def ws_liquidation(inst: SimInstrument, ev: LiquidationEvent) -> dict[str, Any]:
    """One `allLiquidation` entry (S = side of the liquidated position)."""
    return {
        "T": ev.ts,
        "s": ev.symbol,
        "S": str(ev.side),
        "v": inst.qty.to_str(ev.size),
        "p": inst.price.to_str(ev.price),
    }
