"""`BacktestConfig`: everything one backtest run depends on (typed, validated, loadable from TOML/JSON).

The config is also the identity of a run: the same config and the same data give the same metrics, byte
for byte. Sections override the project's typed configs (`risk` -> `RiskConfig`, `rules` ->
`RuleConfig`, `validation` -> `ValidationConfig`, `analytics` -> `AnalyticsConfig`, `execution` ->
`ExecutionConfig`, `emergency` -> `EmergencyPolicy`), so every limit keeps its documented default unless
set here; a sweep changes them by dotted name (`risk.risk_per_trade`, `rules.entry_score`).
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import fields, replace
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import msgspec
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from asym.analytics import DEFAULT_CONFIG as ANALYTICS_DEFAULT
from asym.analytics import AnalyticsConfig
from asym.domain import Interval
from asym.errors import ConfigError
from asym.signals import RuleConfig, SignalConfig, ValidationConfig
from asym.trading.config import RiskConfig
from asym.trading.emergency import EmergencyPolicy
from asym.trading.executor import ExecutionConfig

SECTIONS = ("risk", "rules", "validation", "analytics", "execution", "emergency")


class BacktestConfig(BaseModel):
    """One backtest: data, period, model, account, and overrides of the trading configs."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    data: Path = Field(description="kline file, folder of files, or asym DuckDB store")
    symbols: tuple[str, ...] | None = Field(
        None, description="symbols to trade (None: every one in the data)"
    )
    start_ms: int = Field(description="first decision time (epoch ms)")
    end_ms: int = Field(description="last decision time (epoch ms)")
    model: str = Field("rules", description="signal model spec (asym.signals.spec); rules by default")
    interval: str = Field("60", description="decision interval in Bybit notation (a step per candle close)")
    balance: Decimal = Field(Decimal(10_000), gt=0, description="starting balance, USDT")
    seed: int = Field(7, description="seed of the venue's order-book model")
    venue: str = Field("bybit", description="venue rows to read from multi-venue files")
    funding: Path | None = Field(None, description="funding file (default: found beside the data)")
    warmup_days: float = Field(10.0, ge=0, le=400, description="history loaded before start_ms")
    execution_model: Literal["bars", "replay"] = Field(
        "bars", description="bars: fast candle paths (default); replay: the simulator's 1m replay Market"
    )
    reset_peak_on_resume: bool = Field(
        False, description="at the daily check, acknowledge a drawdown that alone blocks the resume"
    )
    replay_step_ms: int = Field(1000, ge=1, le=3_600_000, description="replay: engine reaction interval")
    auto_resume: bool = Field(
        True,
        description="in emergency, ask to resume at the first step of each UTC day (refused unless cleared)",
    )
    force: bool = Field(False, description="allow an AI model on a period before its training cutoff")
    model_cutoff: str | None = Field(
        None, description="training cutoff (YYYY-MM-DD) of a model not in the table"
    )
    cache_dir: Path | None = Field(None, description="response cache of AI models (default OUT/cache)")
    risk: dict[str, Any] = Field(default_factory=dict)
    rules: dict[str, Any] = Field(default_factory=dict)
    validation: dict[str, Any] = Field(default_factory=dict)
    analytics: dict[str, Any] = Field(default_factory=dict)
    execution: dict[str, Any] = Field(default_factory=dict)
    emergency: dict[str, Any] = Field(default_factory=dict)

    @field_validator("interval")
    @classmethod
    def _interval(cls, v: str) -> str:
        try:
            iv = Interval(v)
        except ValueError:
            raise ValueError(
                f"interval {v!r} is not a Bybit kline interval (1, 5, 15, 60, 240, D, ...)"
            ) from None
        if iv is Interval.MONTH:
            raise ValueError("monthly decision steps are not supported")
        return v

    @field_validator("symbols")
    @classmethod
    def _symbols(cls, v: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if v is None:
            return None
        out = tuple(s.strip().upper() for s in v if s.strip())
        if not out:
            raise ValueError("symbols must name at least one symbol (or be omitted for all)")
        if len(set(out)) != len(out):
            raise ValueError("symbols lists a symbol twice")
        return out

    @model_validator(mode="after")
    def _period(self) -> BacktestConfig:
        if self.end_ms <= self.start_ms:
            raise ValueError("the backtest must end after it starts (--to after --from)")
        if (self.end_ms - self.start_ms) < Interval(self.interval).ms:
            raise ValueError("the period is shorter than one decision interval")
        return self

    @property
    def step_ms(self) -> int:
        """Decision interval in ms."""
        return Interval(self.interval).ms

    @property
    def warmup_ms(self) -> int:
        """History before the start, in ms."""
        return int(self.warmup_days * 86_400_000)

    # ---- the typed configs --------------------------------------------------------------------------

    def risk_config(self) -> RiskConfig:
        """The RiskConfig with this run's overrides."""
        return _struct(RiskConfig, self.risk, "risk")

    def signal_config(self) -> SignalConfig:
        """The SignalConfig with this run's rule and validation overrides."""
        return SignalConfig(
            rules=_struct(RuleConfig, self.rules, "rules"),
            validation=_struct(ValidationConfig, self.validation, "validation"),
        )

    def execution_config(self) -> ExecutionConfig:
        """The ExecutionConfig with this run's overrides."""
        return _struct(ExecutionConfig, self.execution, "execution")

    def emergency_policy(self) -> EmergencyPolicy:
        """The EmergencyPolicy with this run's overrides."""
        return _struct(EmergencyPolicy, self.emergency, "emergency")

    def analytics_config(self) -> AnalyticsConfig:
        """The AnalyticsConfig with this run's overrides (before adapting to the data's interval)."""
        known = {f.name for f in fields(AnalyticsConfig)}
        bad = sorted(set(self.analytics) - known)
        if bad:
            raise ConfigError(f"analytics: unknown setting(s) {bad}")
        try:
            return replace(ANALYTICS_DEFAULT, **self.analytics)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"analytics: {exc}") from None

    def with_overrides(self, overrides: dict[str, Any]) -> BacktestConfig:
        """A copy with dotted overrides applied (`risk.risk_per_trade`, `rules.entry_score`, `interval`)."""
        data = self.model_dump()
        for key, value in overrides.items():
            section, _, name = key.partition(".")
            if name:
                if section not in SECTIONS:
                    raise ConfigError(
                        f"unknown config section {section!r} in {key!r} (one of {', '.join(SECTIONS)})"
                    )
                data[section] = {**data[section], name: value}
            else:
                if key not in data:
                    raise ConfigError(f"unknown config setting {key!r}")
                data[key] = value
        cfg = BacktestConfig.model_validate(data)
        cfg.check()
        return cfg

    def check(self) -> None:
        """Build every typed config once, so a bad override fails before anything runs."""
        self.risk_config()
        self.signal_config()
        self.execution_config()
        self.emergency_policy()
        self.analytics_config()


def _struct(cls: type[Any], values: dict[str, Any], section: str) -> Any:
    try:
        return msgspec.convert(values, cls, strict=False)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"{section}: {exc}") from None
    except ConfigError as exc:
        raise ConfigError(f"{section}: {exc}") from None


def load_config_file(path: str | Path) -> dict[str, Any]:
    """A TOML or JSON config file as a dict (keys as in `BacktestConfig`; sections as tables/objects)."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise ConfigError(f"--config {p}: {exc.strerror or exc}") from None
    try:
        data = json.loads(raw) if p.suffix.lower() == ".json" else tomllib.loads(raw.decode())
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"--config {p}: not valid {'JSON' if p.suffix.lower() == '.json' else 'TOML'}: {exc}"
        ) from None
    if not isinstance(data, dict):
        raise ConfigError(f"--config {p}: the top level must be a table/object")
    return data


def config_dict(cfg: BacktestConfig) -> dict[str, Any]:
    """The config as plain JSON values (paths and Decimals as strings), for reports."""
    out: dict[str, Any] = json.loads(cfg.model_dump_json())
    return out


__all__ = ["SECTIONS", "BacktestConfig", "config_dict", "load_config_file"]
