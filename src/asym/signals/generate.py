"""Entry point of the signal layer: outcomes for many assets at once, in input order."""

from __future__ import annotations

import asyncio

from asym.logging import get_logger, redact_text
from asym.signals.config import SignalConfig
from asym.signals.models import SignalModel
from asym.signals.schema import Rejection, RejectionCode, SignalInput, SignalOutcome

_log = get_logger("signals")


async def _one(
    inp: SignalInput, model: SignalModel, config: SignalConfig, sem: asyncio.Semaphore
) -> SignalOutcome:
    async with sem:
        try:
            return await model.generate(inp, config)
        except Exception as exc:
            # A bug must not take the other assets down; it is recorded as a rejection and logged.
            detail = redact_text(f"{type(exc).__name__}: {exc}")[:300]
            _log.error("signal_internal_error", symbol=inp.data.symbol, model=model.model_id, detail=detail)
            return Rejection(
                symbol=inp.data.symbol,
                model_id=model.model_id,
                code=RejectionCode.INTERNAL_ERROR,
                detail=detail,
                data_timestamp=inp.data.timestamp,
            )


async def generate_signals(
    inputs: list[SignalInput], model: SignalModel, config: SignalConfig | None = None
) -> list[SignalOutcome]:
    """One Signal or Rejection per input (same order), at most `config.max_concurrency` at a time."""
    cfg = config if config is not None else SignalConfig()
    sem = asyncio.Semaphore(max(1, cfg.max_concurrency))
    return list(await asyncio.gather(*(_one(i, model, cfg, sem) for i in inputs)))
