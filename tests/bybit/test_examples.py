"""Every example payload of an endpoint/topic asym uses decodes into the typed wire structs and converts
into domain types with exact Decimal values."""

from __future__ import annotations

import inspect
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest

from asym.bybit import endpoints as eps
from asym.bybit.convert import account as ca
from asym.bybit.convert import market as cm
from asym.bybit.tickerstate import TickerState
from asym.bybit.wire import account as wa
from asym.bybit.wire import envelope as we
from asym.bybit.wire import market as wm
from asym.bybit.wire import ws as ww
from asym.domain import Category, ExecType, Interval, OrderStatus, Side, StopOrderType
from asym.errors import DataError

REST = {
    "market_time.json": eps.SERVER_TIME,
    "market_instruments_info_linear.json": eps.INSTRUMENTS,
    "market_instruments_info_linear_prelaunch.json": eps.INSTRUMENTS,
    "market_instruments_info_option.json": eps.INSTRUMENTS,
    "market_instruments_info_spot.json": eps.INSTRUMENTS,
    "market_kline_linear.json": eps.KLINE,
    "market_kline_inverse.json": eps.KLINE,
    "market_mark_price_kline_linear.json": eps.MARK_PRICE_KLINE,
    "market_index_price_kline_inverse.json": eps.INDEX_PRICE_KLINE,
    "market_premium_index_price_kline_linear.json": eps.PREMIUM_INDEX_KLINE,
    "market_orderbook_linear.json": eps.ORDERBOOK,
    "market_orderbook_spot.json": eps.ORDERBOOK,
    "market_tickers_linear.json": eps.TICKERS,
    "market_tickers_linear_2024-11.json": eps.TICKERS,
    "market_tickers_inverse.json": eps.TICKERS,
    "market_tickers_spot.json": eps.TICKERS,
    "market_tickers_option.json": eps.TICKERS,
    "market_funding_history_linear.json": eps.FUNDING_HISTORY,
    "market_open_interest_linear.json": eps.OPEN_INTEREST,
    "market_open_interest_inverse.json": eps.OPEN_INTEREST,
    "market_recent_trade_linear.json": eps.RECENT_TRADE,
    "market_recent_trade_spot.json": eps.RECENT_TRADE,
    "market_account_ratio_linear.json": eps.ACCOUNT_RATIO,
    "market_risk_limit_inverse.json": eps.RISK_LIMIT,
    "order_create.json": eps.ORDER_CREATE,
    "order_amend.json": eps.ORDER_AMEND,
    "order_cancel.json": eps.ORDER_CANCEL,
    "order_cancel_all.json": eps.ORDER_CANCEL_ALL,
    "order_cancel_all_spot.json": eps.ORDER_CANCEL_ALL,
    "order_create_batch_spot.json": eps.ORDER_CREATE_BATCH,
    "order_realtime_linear.json": eps.ORDER_REALTIME,
    "order_realtime_spot_open.json": eps.ORDER_REALTIME,
    "order_history_linear.json": eps.ORDER_HISTORY,
    "order_history_linear_filled_market.json": eps.ORDER_HISTORY,
    "position_list_linear.json": eps.POSITION_LIST,
    "position_list_inverse.json": eps.POSITION_LIST,
    "position_set_leverage.json": eps.SET_LEVERAGE,
    "position_trading_stop.json": eps.TRADING_STOP,
    "execution_list_linear.json": eps.EXECUTION_LIST,
    "execution_list_linear_trade.json": eps.EXECUTION_LIST,
    "execution_list_linear_funding.json": eps.EXECUTION_LIST,
    "account_wallet_balance_unified.json": eps.WALLET_BALANCE,
    "account_info.json": eps.ACCOUNT_INFO,
    "user_query_api.json": eps.API_KEY_INFO,
    "asset_coin_query_info.json": eps.COIN_INFO,
}

# Request bodies, ws control frames and the WS order-entry (/v5/trade, not used by asym) are not responses.
NOT_USED = {
    "order_amend_request.json",
    "order_cancel_all_request.json",
    "order_cancel_request.json",
    "order_create_batch_request_spot.json",
    "order_create_request_linear_close_reduce_only.json",
    "order_create_request_linear_open_with_tpsl.json",
    "order_create_request_spot_market_buy.json",
    "order_create_request_spot_postonly.json",
    "position_set_leverage_request.json",
    "position_trading_stop_request.json",
    "ws_auth_request.json",
    "ws_ping_request.json",
    "ws_position_subscribe_request.json",
    "ws_subscribe_request_multi.json",
    "ws_subscribe_request_single.json",
    "ws_unsubscribe_request.json",
    "ws_trade_auth_request.json",
    "ws_trade_auth_response.json",
    "ws_trade_order_create_request.json",
    "ws_trade_order_create_response.json",
    "ws_trade_ping_request.json",
    "ws_trade_pong_response.json",
}

WS_CONTROL = {
    "ws_auth_response_success.json",
    "ws_pong_private.json",
    "ws_pong_public_linear_inverse.json",
    "ws_pong_public_option_spread.json",
    "ws_pong_public_spot.json",
    "ws_subscribe_ack_private.json",
    "ws_subscribe_ack_public_linear_inverse.json",
    "ws_subscribe_ack_public_option_spread.json",
    "ws_subscribe_ack_public_spot.json",
}

WS_TOPICS = {
    "ws_orderbook_snapshot_linear.json",
    "ws_orderbook_delta_linear.json",
    "ws_tickers_linear_perpetual_snapshot.json",
    "ws_tickers_linear_futures_snapshot.json",
    "ws_tickers_option_snapshot.json",
    "ws_tickers_spot_snapshot.json",
    "ws_public_trade_linear.json",
    "ws_kline_linear.json",
    "ws_all_liquidation.json",
    "ws_liquidation_deprecated.json",
    "ws_order.json",
    "ws_execution.json",
    "ws_position.json",
    "ws_wallet.json",
}


def _raw(examples: Path, name: str) -> bytes:
    return (examples / name).read_bytes()


def test_every_example_is_accounted_for(protocol_examples: Path) -> None:
    files = {p.name for p in protocol_examples.glob("*.json")}
    known = set(REST) | NOT_USED | WS_CONTROL | WS_TOPICS
    assert files - known == set(), "new example files: classify them"
    assert known - files == set()


@pytest.mark.parametrize("name", sorted(REST))
def test_rest_example_decodes(protocol_examples: Path, name: str) -> None:
    env = REST[name].decoder.decode(_raw(protocol_examples, name))
    assert env.ret_code == 0
    assert env.result is not None


def _env(examples: Path, name: str) -> Any:
    return REST[name].decoder.decode(_raw(examples, name))


def test_instruments_convert_with_exact_filters(protocol_examples: Path) -> None:
    r = _env(protocol_examples, "market_instruments_info_linear.json").result
    inst = cm.instrument(r.items[0], r.category)
    assert inst.symbol == "BTCUSDT" and inst.category is Category.LINEAR
    assert inst.tick_size == Decimal("0.10") and inst.qty_step == Decimal("0.001")
    assert inst.max_mkt_order_qty == Decimal("500.000") and inst.min_notional == Decimal("5")
    assert inst.max_leverage == Decimal("100.00") and inst.price_scale == 2
    assert inst.funding_interval_min == 480 and inst.upper_funding_rate == Decimal("0.00375")
    pre = _env(protocol_examples, "market_instruments_info_linear_prelaunch.json").result
    assert cm.instrument(pre.items[0], "linear").status == "PreLaunch"
    for spotlike in ("market_instruments_info_spot.json", "market_instruments_info_option.json"):
        r2 = _env(protocol_examples, spotlike).result
        with pytest.raises(DataError, match="not supported"):
            cm.instrument(r2.items[0], r2.category)


def test_klines_convert_oldest_first(protocol_examples: Path) -> None:
    r = _env(protocol_examples, "market_kline_linear.json").result
    candles = cm.candles(r.items, r.symbol, Interval.H1, Category.LINEAR, now_ms=1706803708087)
    assert [c.start for c in candles] == sorted(c.start for c in candles)
    newest = candles[-1]
    assert newest.start == 1706637600000 and newest.close == Decimal("43352.8")
    assert newest.volume == Decimal("1575.305") and newest.turnover == Decimal("68345898.1407")
    assert all(c.confirmed for c in candles)
    mark = _env(protocol_examples, "market_mark_price_kline_linear.json").result
    mc = cm.candles(mark.items, mark.symbol, Interval.M1, Category.LINEAR)
    assert mc[0].close == Decimal("17131.64") and mc[0].volume == 0
    prem = _env(protocol_examples, "market_premium_index_price_kline_linear.json").result
    assert cm.candles(prem.items, "BTCUSDT", Interval.D1, Category.LINEAR)[0].open == Decimal("-0.000989")
    # A candle whose interval has not ended at the server's time is not confirmed.
    open_one = cm.candles(
        [["1000", "1", "2", "0.5", "1.5", "3", "4"]], "X", Interval.M1, Category.LINEAR, 30_000
    )
    assert not open_one[0].confirmed


def test_orderbook_and_tickers_convert(protocol_examples: Path) -> None:
    ob = cm.orderbook(_env(protocol_examples, "market_orderbook_linear.json").result, Category.LINEAR)
    assert ob.best_bid == Decimal("42544.7") and ob.best_ask == Decimal("42548")
    assert ob.update_id == 342690 and ob.seq == 429272667
    env = _env(protocol_examples, "market_tickers_linear.json")
    t = cm.ticker(env.result.items[0], env.time, Category.LINEAR)
    assert t.last_price == Decimal("51444.40") and t.prev_price_24h == Decimal("50147.50")
    assert t.high_price_24h == Decimal("51444.40") and t.prev_price_1h == Decimal("50999.90")
    assert t.funding_rate == Decimal("-0.00046295") and t.next_funding_time == 1707926400000
    assert t.open_interest_value == Decimal("11614437205.81") and t.ts == env.time
    inv = _env(protocol_examples, "market_tickers_inverse.json").result.items[0]
    assert cm.ticker(inv, 0, Category.INVERSE).funding_interval_hours == 8
    spot = _env(protocol_examples, "market_tickers_spot.json").result.items[0]
    st = cm.ticker(spot, 0, Category.SPOT)
    assert st.mark_price is None and st.funding_rate is None  # absent, never zero


def test_history_endpoints_convert(protocol_examples: Path) -> None:
    f = _env(protocol_examples, "market_funding_history_linear.json").result.items[0]
    assert cm.funding_rate(f, Category.LINEAR).rate == Decimal("0.0001")
    oi = _env(protocol_examples, "market_open_interest_linear.json").result
    assert oi.next_page_cursor == "lastid%3D10860016%26lasttime%3D1739725200"
    assert cm.open_interest(oi.items[0], oi.symbol, Category.LINEAR).open_interest == Decimal(
        "62129.45500000"
    )
    ratio = _env(protocol_examples, "market_account_ratio_linear.json").result.items[1]
    lsr = cm.long_short_ratio(ratio, Category.LINEAR)
    assert lsr.buy_ratio + lsr.sell_ratio == 1
    tr = _env(protocol_examples, "market_recent_trade_linear.json").result.items[0]
    pt = cm.recent_trade(tr, Category.LINEAR)
    assert pt.taker_side is Side.BUY and pt.size == Decimal("0.972") and pt.ts == 1707905515968
    risk = _env(protocol_examples, "market_risk_limit_inverse.json").result.items[0]
    tier = cm.risk_tier(risk)
    assert tier.tier_id == 1 and tier.mm_deduction == 0 and tier.max_leverage == Decimal("100.00")


def test_orders_convert(protocol_examples: Path) -> None:
    r = _env(protocol_examples, "order_realtime_linear.json").result
    o = ca.order(r.items[0], r.category)
    assert o.status is OrderStatus.NEW and o.order_link_id == "test-000005"
    assert o.take_profit == Decimal("2500.00") and o.trigger_price is None  # "0.00" means none
    assert o.stop_order_type is StopOrderType.NONE and o.avg_price is None  # "UNKNOWN" / "0"
    assert o.leaves_qty == Decimal("0.10") and o.cum_exec_fee == 0
    h = _env(protocol_examples, "order_history_linear.json").result.items[0]
    ho = ca.order(h, "linear")
    assert ho.status is OrderStatus.CANCELLED and ho.reject_reason == "EC_PostOnlyWillTakeLiquidity"
    m = _env(protocol_examples, "order_history_linear_filled_market.json").result.items[0]
    mo = ca.order(m, "linear")
    assert mo.avg_price == Decimal("70.17") and mo.cum_exec_fee == Decimal("0.00385935")
    spot = _env(protocol_examples, "order_realtime_spot_open.json").result
    assert ca.order(spot.items[0], spot.category).category is Category.SPOT
    ack = _env(protocol_examples, "order_create.json").result
    assert ack.order_id == "1321003749386327552" and ack.order_link_id == "spot-test-postonly"
    cancel_all = _env(protocol_examples, "order_cancel_all.json").result
    assert [i.order_id for i in cancel_all.items] == ["1616024329462743808", "1616024287544869632"]
    batch = _env(protocol_examples, "order_create_batch_spot.json")
    assert len(batch.result.items) == len(batch.ret_ext_info.items) == 2
    assert batch.ret_ext_info.items[0].code == 0


def test_positions_executions_wallet_convert(protocol_examples: Path) -> None:
    p = _env(protocol_examples, "position_list_linear.json").result.items[0]
    pos = ca.position(p, "linear")
    assert pos.side is Side.BUY and pos.size == Decimal("1.2") and pos.signed_size == Decimal("1.2")
    assert pos.liq_price is None and pos.take_profit is None
    assert pos.position_im == Decimal("12.95542633") and pos.avg_price == Decimal("64.59947917")
    inv = _env(protocol_examples, "position_list_inverse.json").result.items[0]
    assert ca.position(inv, "inverse").signed_size == Decimal("-300")
    e = _env(protocol_examples, "execution_list_linear.json").result.items[0]
    ex = ca.execution(e, "linear")
    assert ex.exec_type is ExecType.TRADE and ex.fee == Decimal("0.071409") and ex.closed_size == 0
    fund = _env(protocol_examples, "execution_list_linear_funding.json").result.items[0]
    assert ca.execution(fund, "linear").exec_type is ExecType.FUNDING
    env = _env(protocol_examples, "account_wallet_balance_unified.json")
    w = ca.wallet(env.result.items[0], env.time)
    assert w.total_equity == Decimal("3.31216591") and w.ts == env.time
    assert w.coins[0].coin == "BTC" and w.coins[0].available == 0
    info = _env(protocol_examples, "account_info.json").result
    assert info.unified_margin_status == 4
    key = _env(protocol_examples, "user_query_api.json").result
    assert key.uta == 1 and key.user_id == 1448939


def test_ws_control_frames_decode(protocol_examples: Path) -> None:
    dec = msgspec.json.Decoder(ww.WsFrame, strict=False)
    for name in sorted(WS_CONTROL):
        frame = dec.decode(_raw(protocol_examples, name))
        assert frame.topic == ""
        assert frame.op or frame.type == "COMMAND_RESP"
    assert dec.decode(_raw(protocol_examples, "ws_pong_public_linear_inverse.json")).ret_msg == "pong"
    opt = dec.decode(_raw(protocol_examples, "ws_subscribe_ack_public_option_spread.json"))
    data = msgspec.json.decode(opt.data, type=ww.WsOptionAckData)
    assert data.success_topics == ["orderbook.100.BTC-6JAN23-18000-C"]


def test_ws_topics_decode_and_convert(protocol_examples: Path) -> None:
    dec = msgspec.json.Decoder(ww.WsFrame, strict=False)

    def frame(name: str) -> ww.WsFrame:
        return dec.decode(_raw(protocol_examples, name))

    snap = frame("ws_orderbook_snapshot_linear.json")
    book = msgspec.json.decode(snap.data, type=ww.WsBookData)
    assert snap.type == "snapshot" and book.u == 18521288 and snap.cts == 1672304484976
    delta = msgspec.json.decode(frame("ws_orderbook_delta_linear.json").data, type=ww.WsBookData)
    assert ("30240.00", "0") in delta.b
    for name in sorted(n for n in WS_TOPICS if n.startswith("ws_tickers")):
        f = frame(name)
        state = TickerState(f.topic.split(".", 1)[1])
        assert state.apply(f.type, msgspec.json.decode(f.data), f.ts, f.cs)
        t = state.view()
        assert t is not None and t.last_price > 0
    perp = TickerState("BTCUSDT")
    f = frame("ws_tickers_linear_perpetual_snapshot.json")
    perp.apply(f.type, msgspec.json.decode(f.data), f.ts, f.cs)
    view = perp.view()
    assert view is not None and view.funding_rate == Decimal("-0.005") and view.funding_interval_hours == 8
    trades = msgspec.json.decode(frame("ws_public_trade_linear.json").data, type=list[ww.WsTrade])
    pt = cm.ws_trade(trades[0], Category.LINEAR)
    assert pt.price == Decimal("16578.50") and pt.taker_side is Side.BUY and pt.ts == 1672304486865
    kl = msgspec.json.decode(frame("ws_kline_linear.json").data, type=list[ww.WsKline])
    candle = cm.ws_candle(kl[0], "BTCUSDT", Category.LINEAR)
    assert candle.interval is Interval.M5 and not candle.confirmed and candle.close == Decimal("16677")
    liq = msgspec.json.decode(frame("ws_all_liquidation.json").data, type=list[ww.WsLiquidation])
    lq = cm.ws_liquidation(liq[0], Category.LINEAR)
    assert lq.side is Side.SELL and lq.notional == Decimal("20000") * Decimal("0.04499")
    legacy = msgspec.json.decode(frame("ws_liquidation_deprecated.json").data, type=ww.WsLegacyLiquidation)
    assert cm.ws_liquidation(legacy, Category.LINEAR).ts == 1703485237953
    orders = msgspec.json.decode(frame("ws_order.json").data, type=list[wa.OrderItem])
    assert ca.order(orders[0]).category is Category.OPTION
    execs = msgspec.json.decode(frame("ws_execution.json").data, type=list[wa.ExecutionItem])
    assert ca.execution(execs[0]).closed_size == Decimal("0.5")
    positions = msgspec.json.decode(frame("ws_position.json").data, type=list[wa.PositionItem])
    flat = ca.position(positions[0])
    assert flat.side is None and flat.size == 0 and flat.position_idx == 2
    wf = frame("ws_wallet.json")
    wallets = msgspec.json.decode(wf.data, type=list[wa.WalletAccount])
    w = ca.wallet(wallets[0], wf.creation_time)
    assert w.total_available_balance == Decimal("9556.6056555") and w.ts == 1700034722104


def _structs() -> list[type[msgspec.Struct]]:
    out = []
    for mod in (wm, wa, ww, we):
        for _, cls in inspect.getmembers(mod, inspect.isclass):
            if issubclass(cls, msgspec.Struct) and cls.__module__ == mod.__name__:
                out.append(cls)
    return out


def test_every_wire_field_name_exists_in_the_protocol(protocol_examples: Path) -> None:
    """msgspec's camel rename is not Bybit's spelling everywhere (prevPrice24h, not prevPrice24H): every
    wire name must appear in the protocol notes or the examples, or the field would silently stay empty."""
    text = (protocol_examples.parent.parent / "bybit-v5.md").read_text()
    text += "".join(p.read_text() for p in protocol_examples.glob("*.json"))
    missing = []
    for cls in _structs():
        for f in msgspec.structs.fields(cls):
            if f.encode_name not in text:
                missing.append(f"{cls.__name__}.{f.name} -> {f.encode_name}")
    assert missing == []


def test_malformed_numbers_raise_data_error_naming_the_field() -> None:
    item = wm.TickerItem(symbol="X", last_price="12x")
    with pytest.raises(DataError, match="lastPrice"):
        cm.ticker(item, 0, Category.LINEAR)
    with pytest.raises(DataError, match="lastPrice missing"):
        cm.ticker(wm.TickerItem(symbol="X"), 0, Category.LINEAR)
    bad_order = wa.OrderItem(order_id="1", symbol="X", side="Up", order_type="Limit", order_status="New")
    with pytest.raises(DataError, match="side"):
        ca.order(bad_order)
    with pytest.raises(DataError, match="orderStatus"):
        ca.order(wa.OrderItem(order_id="1", symbol="X", side="Buy", order_type="Limit", order_status="Weird"))
    with pytest.raises(DataError, match="finite"):
        cm.funding_rate(
            wm.FundingItem(symbol="X", funding_rate="NaN", funding_rate_timestamp="1"), Category.LINEAR
        )
