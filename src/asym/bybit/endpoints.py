"""Every REST endpoint asym uses: path, method, privacy, whether it writes, priority and its typed decoder."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec

from asym.bybit.ratelimit import Priority
from asym.bybit.wire import account as wa
from asym.bybit.wire import market as wm
from asym.bybit.wire.envelope import EmptyResult, Envelope, ServerTimeResult


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One REST endpoint. `write` endpoints change account state: their outcome can be unknown."""

    path: str
    method: str
    private: bool
    write: bool
    priority: Priority
    decoder: msgspec.json.Decoder[Any]


def _ep(path: str, result: type, *, method: str = "GET", private: bool = False, write: bool = False,
        priority: Priority | None = None) -> Endpoint:  # fmt: skip
    prio = priority if priority is not None else (Priority.MARKET if not private else Priority.ACCOUNT)
    # strict=False: tolerate numbers sent as strings (and vice versa for bools) without failing a decode.
    decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(Envelope[result], strict=False)  # type: ignore[valid-type]
    return Endpoint(path, method, private, write, prio, decoder)


SERVER_TIME = _ep("/v5/market/time", ServerTimeResult)
INSTRUMENTS = _ep("/v5/market/instruments-info", wm.InstrumentsResult)
KLINE = _ep("/v5/market/kline", wm.KlineResult)
MARK_PRICE_KLINE = _ep("/v5/market/mark-price-kline", wm.KlineResult)
INDEX_PRICE_KLINE = _ep("/v5/market/index-price-kline", wm.KlineResult)
PREMIUM_INDEX_KLINE = _ep("/v5/market/premium-index-price-kline", wm.KlineResult)
ORDERBOOK = _ep("/v5/market/orderbook", wm.OrderbookResult)
TICKERS = _ep("/v5/market/tickers", wm.TickersResult)
FUNDING_HISTORY = _ep("/v5/market/funding/history", wm.FundingHistoryResult)
OPEN_INTEREST = _ep("/v5/market/open-interest", wm.OpenInterestResult)
RECENT_TRADE = _ep("/v5/market/recent-trade", wm.RecentTradeResult)
ACCOUNT_RATIO = _ep("/v5/market/account-ratio", wm.AccountRatioResult)
RISK_LIMIT = _ep("/v5/market/risk-limit", wm.RiskLimitResult)

_W = {"method": "POST", "private": True, "write": True, "priority": Priority.TRADE}
ORDER_CREATE = _ep("/v5/order/create", wa.OrderAckResult, **_W)  # type: ignore[arg-type]
ORDER_AMEND = _ep("/v5/order/amend", wa.OrderAckResult, **_W)  # type: ignore[arg-type]
ORDER_CANCEL = _ep("/v5/order/cancel", wa.OrderAckResult, **_W)  # type: ignore[arg-type]
ORDER_CANCEL_ALL = _ep("/v5/order/cancel-all", wa.CancelAllResult, **_W)  # type: ignore[arg-type]
ORDER_CREATE_BATCH = _ep("/v5/order/create-batch", wa.BatchResult, **_W)  # type: ignore[arg-type]
ORDER_REALTIME = _ep("/v5/order/realtime", wa.OrderListResult, private=True)
ORDER_HISTORY = _ep("/v5/order/history", wa.OrderListResult, private=True)
POSITION_LIST = _ep("/v5/position/list", wa.PositionListResult, private=True)
SET_LEVERAGE = _ep("/v5/position/set-leverage", EmptyResult, **_W)  # type: ignore[arg-type]
TRADING_STOP = _ep("/v5/position/trading-stop", EmptyResult, **_W)  # type: ignore[arg-type]
EXECUTION_LIST = _ep("/v5/execution/list", wa.ExecutionListResult, private=True)
WALLET_BALANCE = _ep("/v5/account/wallet-balance", wa.WalletResult, private=True)
ACCOUNT_INFO = _ep("/v5/account/info", wa.AccountInfoResult, private=True)
API_KEY_INFO = _ep("/v5/user/query-api", wa.ApiKeyInfoResult, private=True)
COIN_INFO = _ep("/v5/asset/coin/query-info", wa.CoinInfoResult, private=True)

ALL: tuple[Endpoint, ...] = tuple(v for v in list(globals().values()) if isinstance(v, Endpoint))
