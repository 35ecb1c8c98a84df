"""Prompt builder: a compact, deterministic rendering of one asset's state into the versioned template.

The template lives in prompts/<version>.txt (sections `=== system ===` and `=== user ===`); the version
string is recorded in every signal. Rendering is bounded (`SignalConfig.max_prompt_chars`), contains only
market data, the position and the account's risk state, and never any credential.
"""

from __future__ import annotations

import hashlib
import math
import re
from decimal import Decimal
from functools import cache
from importlib import resources
from string import Template

import msgspec

from asym.analytics.types import EnhancedData
from asym.domain import Position
from asym.errors import DataError
from asym.signals.config import SignalConfig
from asym.signals.schema import RiskState, SignalInput
from asym.signals.validation import reference_price, usable_atr

PROMPT_VERSION = "v1"
_SYMBOL = re.compile(r"^[A-Z0-9][A-Z0-9._-]{0,31}$")
_TOKEN = re.compile(r"[^A-Za-z0-9_.:-]")
_MAX_FLAGS = 8


class Prompt(msgspec.Struct, frozen=True, kw_only=True):
    """The two chat messages for one asset, and the template version that produced them."""

    version: str
    system: str
    user: str

    def messages(self) -> list[dict[str, str]]:
        """OpenAI chat messages."""
        return [{"role": "system", "content": self.system}, {"role": "user", "content": self.user}]

    def digest(self) -> str:
        """SHA-256 of the version and both messages (the cache key material)."""
        h = hashlib.sha256()
        for part in (self.version, self.system, self.user):
            h.update(part.encode())
            h.update(b"\x00")
        return h.hexdigest()


@cache
def load_template(version: str = PROMPT_VERSION) -> tuple[Template, Template]:
    """The (system, user) templates of `version` from prompts/<version>.txt."""
    if not re.fullmatch(r"v\d+", version):
        raise DataError(f"prompt version must look like v1, got {version!r}")
    text = resources.files("asym.signals").joinpath(f"prompts/{version}.txt").read_text(encoding="utf-8")
    try:
        _, rest = text.split("=== system ===\n", 1)
        system, user = rest.split("=== user ===\n", 1)
    except ValueError:
        raise DataError(f"prompt template {version} lacks its system/user sections") from None
    return Template(system.strip()), Template(user.strip())


def _fmt_decimal(d: Decimal) -> str:
    if not d.is_finite():
        return "na"
    d = Decimal(format(d, ".12g"))  # at most 12 significant digits
    if d == d.to_integral_value():
        return str(d.quantize(Decimal(1))) if abs(d) < 10**15 else format(d, ".6e")
    return format(d.normalize(), "f")


def fmt(value: object) -> str:
    """Compact deterministic text for a number or label ('na' for missing)."""
    if value is None:
        return "na"
    if isinstance(value, Decimal):
        return _fmt_decimal(value)
    if isinstance(value, float):
        return format(value, ".6g") if math.isfinite(value) else "na"
    if isinstance(value, bool | int):
        return str(int(value))
    return _TOKEN.sub("", str(value))[:40] or "na"


def render_market(d: EnhancedData) -> str:
    """Key=value lines of the enhanced data (the test server and humans can read them)."""
    ti = d.technical_indicators
    fs = d.funding_sentiment
    oi = d.oi_sentiment
    nl = d.nearby_liquidations
    mark = reference_price(d)
    atr = usable_atr(d)
    lines = [
        f"asset: symbol={d.symbol} ts_ms={d.timestamp}",
        f"price: mark={fmt(mark)} last={fmt(d.last_price)} index={fmt(d.index_price)} "
        f"bid={fmt(d.bid_price)} ask={fmt(d.ask_price)} spread_pct={fmt(d.spread_pct)}",
    ]
    if ti is not None:
        lines.append(
            f"indicators: interval={fmt(ti.interval)} atr_14={fmt(atr)} atr_pct={fmt(ti.atr_pct)} "
            f"rsi_14={fmt(ti.rsi_14)} ema_trend={fmt(ti.ema_trend)} ema_fast={fmt(ti.ema_fast)} "
            f"ema_slow={fmt(ti.ema_slow)} bb_width={fmt(ti.bb_width)} rv_1h={fmt(ti.realized_vol_1h)} "
            f"rv_24h={fmt(ti.realized_vol_24h)}"
        )
    else:
        lines.append("indicators: na")
    lines.append(
        f"funding: rate={fmt(d.funding_rate)} next_ms={fmt(d.next_funding_time)}"
        + (
            f" direction={fmt(fs.direction)} pressure={fmt(fs.pressure)} zscore={fmt(fs.zscore)} "
            f"annualized_pct={fmt(fs.annualized_pct)}"
            if fs is not None
            else ""
        )
    )
    lines.append(
        f"open_interest: oi={fmt(d.open_interest)}"
        + (
            f" label={fmt(oi.label)} oi_change_pct={fmt(oi.oi_change_pct)} "
            f"price_change_pct={fmt(oi.price_change_pct)} window_h={fmt(oi.window_hours)}"
            if oi is not None
            else ""
        )
    )
    if nl is not None:
        lines.append(
            f"liquidations: band_pct={fmt(nl.band_pct)} window_s={nl.window_s} count={nl.count} "
            f"notional={fmt(nl.notional)} long_count={nl.long_count} long_notional={fmt(nl.long_notional)} "
            f"short_count={nl.short_count} short_notional={fmt(nl.short_notional)}"
        )
    else:
        lines.append("liquidations: na")
    flags = [fmt(f) for f in d.quality_flags[:_MAX_FLAGS]]
    if len(d.quality_flags) > _MAX_FLAGS:
        flags.append(f"+{len(d.quality_flags) - _MAX_FLAGS}more")
    lines.append(
        f"risk: liquidity_score={fmt(d.liquidity_score)} market_risk_score={fmt(d.market_risk_score)} "
        f"liquidation_risk={fmt(d.liquidation_risk)} volume_24h={fmt(d.volume_24h)} "
        f"turnover_24h={fmt(d.turnover_24h)} book_levels={d.order_book_depth} "
        f"quality_flags={','.join(flags) or 'none'}"
    )
    return "\n".join(lines)


def render_position(p: Position | None) -> str:
    """One line describing the open position (or none)."""
    if p is None or p.side is None or p.size <= 0:
        return "position: none"
    return (
        f"position: side={'LONG' if p.side.sign > 0 else 'SHORT'} size={fmt(p.size)} "
        f"avg_price={fmt(p.avg_price)} leverage={fmt(p.leverage)} unrealised_pnl={fmt(p.unrealised_pnl)} "
        f"liq_price={fmt(p.liq_price)} take_profit={fmt(p.take_profit)} stop_loss={fmt(p.stop_loss)}"
    )


def render_account(r: RiskState) -> str:
    """One line with the account's risk state."""
    pct = r.daily_pnl / r.equity * 100 if r.equity.is_finite() and r.equity > 0 else None
    return (
        f"account: equity={fmt(r.equity)} open_positions={r.open_positions} daily_pnl={fmt(r.daily_pnl)} "
        f"daily_pnl_pct={fmt(pct)} mode={fmt(r.mode)}"
    )


def build_prompt(inp: SignalInput, config: SignalConfig, version: str = PROMPT_VERSION) -> Prompt:
    """Render the prompt for one asset; DataError when the input is unusable or the prompt too long."""
    if not _SYMBOL.match(inp.data.symbol):
        raise DataError(f"symbol {inp.data.symbol[:40]!r} is not a plain contract symbol")
    system_t, user_t = load_template(version)
    v = config.validation
    system = system_t.substitute(
        max_limit_atr=fmt(v.max_limit_distance_atr),
        min_stop_atr=fmt(v.min_stop_atr),
        max_stop_atr=fmt(v.max_stop_atr),
        min_stop_pct=fmt(v.min_stop_pct),
        max_stop_pct=fmt(v.max_stop_pct),
        max_targets=v.max_targets,
        min_rr=fmt(v.min_reward_risk),
        fee_pct=fmt(v.entry_fee_rate * 100),
        exit_fee_pct=fmt(v.exit_fee_rate * 100),
        funding_h=v.funding_interval_hours,
        min_lev=fmt(v.min_leverage),
        max_lev=fmt(v.max_leverage),
        min_h=fmt(v.min_horizon_hours),
        max_h=fmt(v.max_horizon_hours),
    )
    user = user_t.substitute(
        market=render_market(inp.data),
        position=render_position(inp.position),
        account=render_account(inp.risk),
    )
    size = len(system) + len(user)
    if size > config.max_prompt_chars:
        raise DataError(f"prompt of {size} chars exceeds the limit of {config.max_prompt_chars}")
    return Prompt(version=version, system=system, user=user)
