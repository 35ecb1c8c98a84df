"""AI models in backtests: refusal before the training cutoff (unless forced), the cost estimate, and a
run through the signal layer's response cache against a local OpenAI-compatible server (real openai SDK,
real HTTP): the second run calls nobody and gives the same metrics."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from asym.backtest.ai import TRAINING_CUTOFFS, check_cutoff, estimate_cost, is_ai
from asym.backtest.config import BacktestConfig
from asym.backtest.metrics import compute_metrics
from asym.backtest.report import metrics_json
from asym.backtest.runner import run_backtest
from asym.errors import ConfigError
from asym.signals import ModelPrice, RiskState, SignalConfig, SignalInput, build_prompt
from asym.signals.testing import OpenAITestServer, auto_signal_responder, make_enhanced

from .conftest import DAY, T0, market, synthetic

D = Decimal


def test_cutoffs_refuse_periods_the_model_may_have_memorised() -> None:
    assert not is_ai("rules") and is_ai("deepseek:deepseek-chat>rules")
    assert check_cutoff("rules", 0) == []
    before = int(TRAINING_CUTOFFS["gpt-4o"].strftime("%s")) * 1000 - DAY
    with pytest.raises(ConfigError, match="trained on data up to 2023-10-01"):
        check_cutoff("openai:gpt-4o", before)
    (warning,) = check_cutoff("openai:gpt-4o", before, force=True)
    assert warning.startswith("forced:")
    assert check_cutoff("openai:gpt-4o", T0) == []  # 2025-06 is after the cutoff
    with pytest.raises(ConfigError, match="no known training cutoff"):
        check_cutoff("openai-compatible:http://127.0.0.1:9/v1:mystery", T0)
    assert (
        check_cutoff("openai-compatible:http://127.0.0.1:9/v1:mystery", T0, override=date(2020, 1, 1)) == []
    )
    with pytest.raises(ConfigError, match="deepseek-chat"):  # every member of a consensus is checked
        check_cutoff("consensus:2:openai:gpt-4o|deepseek:deepseek-chat", T0)


def test_cost_estimate_counts_calls_tokens_and_prices() -> None:
    cfg = SignalConfig()
    sample = make_enhanced("BTCUSDT", price="50000")
    p = build_prompt(SignalInput(data=sample, risk=RiskState(equity=D(10_000))), cfg)
    per_call = (len(p.system) + len(p.user)) // 4
    prices = {"m1": ModelPrice(input_per_mtok=D("0.5"), output_per_mtok=D("2"))}
    est = estimate_cost("openai-compatible:http://h:1/v1:m1", 1000, sample, cfg, prices)
    assert (est.calls, est.prompt_tokens, est.completion_tokens) == (1000, 1000 * per_call, 250_000)
    assert est.cost_usd == (1000 * per_call * D("0.5") + 250_000 * D(2)) / D(1_000_000)
    both = estimate_cost(
        "consensus:2:openai-compatible:http://h:1/v1:m1|openai-compatible:http://h:2/v1:m1",
        1000,
        sample,
        cfg,
        prices,
    )
    assert est.cost_usd is not None and both.calls == 2000 and both.cost_usd == 2 * est.cost_usd
    chain = estimate_cost("openai-compatible:http://h:1/v1:m1>rules", 1000, sample, cfg, prices)
    assert chain.calls == 1000  # a fallback is asked only when the first member fails
    assert estimate_cost("openai-compatible:http://h:1/v1:unpriced", 10, sample, cfg, prices).cost_usd is None
    assert "model calls" in est.describe()


async def test_ai_backtest_goes_through_the_response_cache(tmp_path: Path) -> None:
    server = OpenAITestServer(auto_signal_responder("LONG"))
    url = await server.start()
    try:
        data = market(synthetic(start=T0 - 10 * DAY, n=24 * 13))
        cfg = BacktestConfig(
            data=Path("unused"),
            start_ms=T0,
            end_ms=T0 + 2 * DAY,
            model=f"openai-compatible:{url}:test-model",
            model_cutoff="2020-01-01",
            cache_dir=tmp_path / "cache",
        )
        first = await run_backtest(cfg, data=data)
        calls = server.count()
        assert calls == len(first.steps)  # one asset, one call per step
        assert first.summary.entries >= 1  # the model's LONG went through risk and execution
        second = await run_backtest(cfg, data=data)
        assert server.count() == calls  # every answer came from the cache
        assert metrics_json(compute_metrics(first)) == metrics_json(compute_metrics(second))
        (usage,) = second.model_usage.values()
        assert (usage["cache_hits"], usage["calls"]) == (calls, 0)
        (usage,) = first.model_usage.values()
        assert (usage["cache_hits"], usage["calls"]) == (0, calls)
    finally:
        await server.stop()
    with pytest.raises(ConfigError, match="training cutoff"):
        await run_backtest(cfg.with_overrides({"model_cutoff": None}), data=data)
