"""The database schema as ordered SQL migrations, and the code that applies them.

Rules: a migration, once released, is never edited; a change is a new migration with the next version.
Each migration runs in its own transaction together with its `schema_version` row, so a crash leaves the
database at the previous version or the next one, never between. Money is DECIMAL(38,18) (see
docs/store.md for why); timestamps are BIGINT epoch milliseconds (UTC), like the domain types.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb

from asym.errors import ConfigError
from asym.store.config import StoreError

DEC = "DECIMAL(38,18)"


@dataclass(frozen=True, slots=True)
class Migration:
    """One schema step: `version` (1, 2, ...), a short name, and the SQL statements to run."""

    version: int
    name: str
    sql: str


_V1 = f"""
CREATE TABLE candles (
    venue VARCHAR NOT NULL, category VARCHAR NOT NULL, symbol VARCHAR NOT NULL, interval VARCHAR NOT NULL,
    start BIGINT NOT NULL,
    open {DEC} NOT NULL, high {DEC} NOT NULL, low {DEC} NOT NULL, close {DEC} NOT NULL,
    volume {DEC} NOT NULL, turnover {DEC} NOT NULL, confirmed BOOLEAN NOT NULL,
    PRIMARY KEY (venue, category, symbol, interval, start)
);
CREATE TABLE book_snapshots (
    venue VARCHAR NOT NULL, category VARCHAR NOT NULL, symbol VARCHAR NOT NULL, ts BIGINT NOT NULL,
    update_id BIGINT NOT NULL, seq BIGINT NOT NULL, depth INTEGER NOT NULL,
    bids STRUCT(price {DEC}, size {DEC})[] NOT NULL, asks STRUCT(price {DEC}, size {DEC})[] NOT NULL,
    PRIMARY KEY (venue, category, symbol, ts, update_id)
);
CREATE TABLE tickers (
    venue VARCHAR NOT NULL, category VARCHAR NOT NULL, symbol VARCHAR NOT NULL, ts BIGINT NOT NULL,
    last_price {DEC} NOT NULL, mark_price {DEC}, index_price {DEC},
    bid1_price {DEC}, bid1_size {DEC}, ask1_price {DEC}, ask1_size {DEC},
    prev_price_24h {DEC}, price_24h_pcnt {DEC}, high_price_24h {DEC}, low_price_24h {DEC},
    prev_price_1h {DEC},
    volume_24h {DEC}, turnover_24h {DEC}, open_interest {DEC}, open_interest_value {DEC},
    funding_rate {DEC}, next_funding_time BIGINT, funding_interval_hours INTEGER,
    PRIMARY KEY (venue, category, symbol, ts)
);
CREATE TABLE funding_rates (
    venue VARCHAR NOT NULL, category VARCHAR NOT NULL, symbol VARCHAR NOT NULL, ts BIGINT NOT NULL,
    rate {DEC} NOT NULL,
    PRIMARY KEY (venue, category, symbol, ts)
);
CREATE TABLE open_interest (
    venue VARCHAR NOT NULL, category VARCHAR NOT NULL, symbol VARCHAR NOT NULL, ts BIGINT NOT NULL,
    open_interest {DEC} NOT NULL,
    PRIMARY KEY (venue, category, symbol, ts)
);
CREATE TABLE long_short_ratio (
    venue VARCHAR NOT NULL, category VARCHAR NOT NULL, symbol VARCHAR NOT NULL, ts BIGINT NOT NULL,
    buy_ratio {DEC} NOT NULL, sell_ratio {DEC} NOT NULL,
    PRIMARY KEY (venue, category, symbol, ts)
);
CREATE TABLE liquidations (
    venue VARCHAR NOT NULL, category VARCHAR NOT NULL, symbol VARCHAR NOT NULL, ts BIGINT NOT NULL,
    side VARCHAR NOT NULL, price {DEC} NOT NULL, size {DEC} NOT NULL,
    PRIMARY KEY (venue, category, symbol, ts, side, price, size)
);
CREATE TABLE enhanced_snapshots (
    symbol VARCHAR NOT NULL, ts BIGINT NOT NULL,
    last_price {DEC} NOT NULL, mark_price {DEC}, index_price {DEC}, bid_price {DEC}, ask_price {DEC},
    volume_24h {DEC}, turnover_24h {DEC}, funding_rate {DEC}, next_funding_time BIGINT, open_interest {DEC},
    liquidity_score DOUBLE, liquidation_risk VARCHAR, market_risk_score DOUBLE, spread_pct DOUBLE,
    order_book_depth INTEGER NOT NULL, quality_flags VARCHAR[] NOT NULL, data JSON NOT NULL,
    PRIMARY KEY (symbol, ts)
);
CREATE TABLE quality_events (
    ts BIGINT NOT NULL, symbol VARCHAR NOT NULL, source VARCHAR NOT NULL, field VARCHAR NOT NULL,
    kind VARCHAR NOT NULL, severity VARCHAR NOT NULL, detail VARCHAR NOT NULL, value VARCHAR,
    PRIMARY KEY (ts, symbol, source, field, kind)
);
CREATE TABLE order_intents (
    order_link_id VARCHAR PRIMARY KEY, ts BIGINT NOT NULL, category VARCHAR NOT NULL, symbol VARCHAR NOT NULL,
    side VARCHAR NOT NULL, order_type VARCHAR NOT NULL, qty {DEC} NOT NULL, price {DEC},
    decision_id VARCHAR, request JSON NOT NULL
);
CREATE TABLE orders (
    order_id VARCHAR PRIMARY KEY, order_link_id VARCHAR NOT NULL, category VARCHAR NOT NULL,
    symbol VARCHAR NOT NULL, side VARCHAR NOT NULL, order_type VARCHAR NOT NULL,
    price {DEC} NOT NULL, qty {DEC} NOT NULL, time_in_force VARCHAR NOT NULL, status VARCHAR NOT NULL,
    cum_exec_qty {DEC} NOT NULL, cum_exec_value {DEC} NOT NULL, cum_exec_fee {DEC} NOT NULL,
    avg_price {DEC}, leaves_qty {DEC} NOT NULL, reduce_only BOOLEAN NOT NULL,
    created_time BIGINT NOT NULL, updated_time BIGINT NOT NULL,
    take_profit {DEC}, stop_loss {DEC}, trigger_price {DEC}, trigger_direction INTEGER NOT NULL,
    stop_order_type VARCHAR NOT NULL, reject_reason VARCHAR NOT NULL, cancel_type VARCHAR NOT NULL
);
CREATE TABLE executions (
    exec_id VARCHAR PRIMARY KEY, order_id VARCHAR NOT NULL, order_link_id VARCHAR NOT NULL,
    category VARCHAR NOT NULL, symbol VARCHAR NOT NULL, side VARCHAR NOT NULL,
    price {DEC} NOT NULL, qty {DEC} NOT NULL, value {DEC} NOT NULL, fee {DEC} NOT NULL,
    fee_rate {DEC} NOT NULL,
    is_maker BOOLEAN NOT NULL, exec_type VARCHAR NOT NULL, ts BIGINT NOT NULL, closed_size {DEC} NOT NULL
);
CREATE TABLE positions (
    category VARCHAR NOT NULL, symbol VARCHAR NOT NULL, position_idx INTEGER NOT NULL, side VARCHAR,
    size {DEC} NOT NULL, avg_price {DEC} NOT NULL, mark_price {DEC} NOT NULL, leverage {DEC} NOT NULL,
    position_value {DEC} NOT NULL, unrealised_pnl {DEC} NOT NULL, cum_realised_pnl {DEC} NOT NULL,
    liq_price {DEC}, take_profit {DEC}, stop_loss {DEC},
    position_im {DEC} NOT NULL, position_mm {DEC} NOT NULL,
    updated_time BIGINT NOT NULL,
    PRIMARY KEY (category, symbol, position_idx)
);
CREATE TABLE position_history (
    category VARCHAR NOT NULL, symbol VARCHAR NOT NULL, position_idx INTEGER NOT NULL, side VARCHAR,
    size {DEC} NOT NULL, avg_price {DEC} NOT NULL, mark_price {DEC} NOT NULL, leverage {DEC} NOT NULL,
    position_value {DEC} NOT NULL, unrealised_pnl {DEC} NOT NULL, cum_realised_pnl {DEC} NOT NULL,
    liq_price {DEC}, take_profit {DEC}, stop_loss {DEC},
    position_im {DEC} NOT NULL, position_mm {DEC} NOT NULL,
    updated_time BIGINT NOT NULL,
    PRIMARY KEY (category, symbol, position_idx, updated_time)
);
CREATE TABLE equity_history (
    account VARCHAR NOT NULL, ts BIGINT NOT NULL,
    total_equity {DEC} NOT NULL, total_wallet_balance {DEC} NOT NULL, total_margin_balance {DEC} NOT NULL,
    total_available_balance {DEC} NOT NULL, total_initial_margin {DEC} NOT NULL,
    total_maintenance_margin {DEC} NOT NULL, coins JSON NOT NULL,
    PRIMARY KEY (account, ts)
);
CREATE TABLE decisions (
    decision_id VARCHAR PRIMARY KEY, ts BIGINT NOT NULL, symbol VARCHAR NOT NULL, action VARCHAR NOT NULL,
    mode VARCHAR NOT NULL, signal_id VARCHAR, order_link_ids VARCHAR[] NOT NULL, reasons VARCHAR[] NOT NULL,
    detail JSON NOT NULL
);
CREATE TABLE signals (
    signal_id VARCHAR PRIMARY KEY, ts BIGINT NOT NULL, symbol VARCHAR NOT NULL, model VARCHAR NOT NULL,
    action VARCHAR NOT NULL, accepted BOOLEAN NOT NULL, reason_code VARCHAR, reason VARCHAR,
    entry {DEC}, stop_loss {DEC}, take_profit {DEC}[] NOT NULL, confidence DOUBLE, payload JSON NOT NULL
);
"""

MIGRATIONS: tuple[Migration, ...] = (Migration(1, "market data and trading state", _V1),)
"""Every migration, in order. Append only."""


def current_version(conn: duckdb.DuckDBPyConnection) -> int:
    """The schema version recorded in the database (0 for an empty one)."""
    exists = conn.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'"
    ).fetchone()
    if not exists or not exists[0]:
        return 0
    row = conn.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()
    return int(row[0]) if row else 0


def apply_migrations(
    conn: duckdb.DuckDBPyConnection, migrations: Sequence[Migration] = MIGRATIONS
) -> list[int]:
    """Bring the database to the newest version; returns the versions applied now (oldest first)."""
    versions = [m.version for m in migrations]
    if versions != sorted(set(versions)) or (versions and versions[0] < 1):
        raise ConfigError(f"migrations must have unique increasing versions >= 1, got {versions}")
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_version "
        "(version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at BIGINT NOT NULL)"
    )
    have = current_version(conn)
    newest = versions[-1] if versions else 0
    if have > newest:
        raise StoreError(f"database schema is v{have}, newer than this asym knows (v{newest}): upgrade asym")
    applied = []
    for m in migrations:
        if m.version <= have:
            continue
        conn.execute("BEGIN TRANSACTION")
        try:
            conn.execute(m.sql)
            conn.execute(
                "INSERT INTO schema_version VALUES (?, ?, ?)", [m.version, m.name, int(time.time() * 1000)]
            )
            conn.execute("COMMIT")
        except Exception as e:
            conn.execute("ROLLBACK")
            raise StoreError(f"migration v{m.version} ({m.name}) failed: {e}") from e
        applied.append(m.version)
    return applied


__all__ = ["DEC", "MIGRATIONS", "Migration", "apply_migrations", "current_version"]
