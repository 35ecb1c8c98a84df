"""Signal models: the protocol, the `rules` model, and the fallback-chain and consensus combinators."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Sequence
from typing import Protocol

import msgspec

from asym.logging import get_logger, redact_text
from asym.signals.config import SignalConfig
from asym.signals.costs import UsageLedger
from asym.signals.rules import RULES_VERSION, rule_reply
from asym.signals.schema import (
    ZERO_USAGE,
    Action,
    Meta,
    Rejection,
    RejectionCode,
    Signal,
    SignalInput,
    SignalOutcome,
)
from asym.signals.validation import reference_price, validate_reply

_log = get_logger("signals.models")
_DETAIL_MAX = 600


class SignalModel(Protocol):
    """Anything that turns one asset's input into a validated Signal or a Rejection."""

    @property
    def model_id(self) -> str:
        """The id recorded in outcomes."""
        ...

    async def generate(self, inp: SignalInput, config: SignalConfig) -> SignalOutcome:
        """One outcome for one asset; never raises for bad model output."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...


class RulesModel:
    """The deterministic `rules` model (no network)."""

    model_id = "rules"
    prompt_version = RULES_VERSION

    def __init__(self, ledger: UsageLedger | None = None) -> None:
        self.ledger = ledger if ledger is not None else UsageLedger()

    def __repr__(self) -> str:
        return "RulesModel()"

    def generate_sync(self, inp: SignalInput, config: SignalConfig) -> SignalOutcome:
        """The validated rule signal for one asset (pure; usable from backtests without a loop)."""
        t0 = time.perf_counter()
        reply = rule_reply(inp, config.validation, config.rules)
        meta = Meta(
            model_id=self.model_id,
            prompt_version=self.prompt_version,
            latency_ms=(time.perf_counter() - t0) * 1000,
        )
        return validate_reply(reply, inp, config.validation, meta)

    async def generate(self, inp: SignalInput, config: SignalConfig) -> SignalOutcome:
        """Same as `generate_sync`."""
        return self.generate_sync(inp, config)

    async def aclose(self) -> None:
        """Nothing to release."""


async def _guarded(model: SignalModel, inp: SignalInput, config: SignalConfig) -> SignalOutcome:
    """A member's outcome; a bug in one member becomes its rejection instead of failing the others."""
    try:
        return await model.generate(inp, config)
    except Exception as exc:
        detail = redact_text(f"{type(exc).__name__}: {exc}")[:300]
        _log.error("model_internal_error", symbol=inp.data.symbol, model=model.model_id, detail=detail)
        return Rejection(
            symbol=inp.data.symbol,
            model_id=model.model_id,
            code=RejectionCode.INTERNAL_ERROR,
            detail=detail,
            data_timestamp=inp.data.timestamp,
        )


def _clip(text: str) -> str:
    return text if len(text) <= _DETAIL_MAX else text[: _DETAIL_MAX - 1] + "…"


class FallbackModel:
    """Try members in order; move on only when a member gave no usable answer (transport/parse failure).

    A well-formed answer that fails semantic validation is final: it is that model's decision, recorded.
    """

    def __init__(
        self, members: Sequence[SignalModel], model_id: str, ledger: UsageLedger | None = None
    ) -> None:
        if not members:
            raise ValueError("a fallback chain needs at least one model")
        self.members = list(members)
        self.model_id = model_id
        self.ledger = ledger if ledger is not None else UsageLedger()

    def __repr__(self) -> str:
        return f"FallbackModel({self.model_id!r})"

    async def generate(self, inp: SignalInput, config: SignalConfig) -> SignalOutcome:
        """The first member outcome that is not a model failure, else a rejection naming every failure."""
        failures: list[Rejection] = []
        for m in self.members:
            out = await _guarded(m, inp, config)
            if isinstance(out, Rejection) and (
                out.code.is_model_failure or out.code is RejectionCode.INTERNAL_ERROR
            ):
                failures.append(out)
                continue
            if failures:
                _log.info(
                    "model_fallback",
                    symbol=inp.data.symbol,
                    used=m.model_id,
                    failed=[f.model_id for f in failures],
                )
            return out
        last = failures[-1]
        detail = "; ".join(f"{f.model_id}: {f.code}: {f.detail}" for f in failures)
        return msgspec.structs.replace(last, model_id=self.model_id, detail=_clip(detail))

    async def aclose(self) -> None:
        """Close every member."""
        for m in self.members:
            await m.aclose()


class ConsensusModel:
    """Ask every member concurrently; emit a direction only when at least `need` valid signals agree on it.

    LONG, SHORT and CLOSE are directions; anything else (HOLD votes, rejected answers, ties) gives HOLD.
    The emitted signal is the most confident agreeing member signal (its prices were validated as they
    are), with usage summed over all members and latency the slowest member's.
    """

    def __init__(
        self, need: int, members: Sequence[SignalModel], model_id: str, ledger: UsageLedger | None = None
    ):
        if not 1 <= need <= len(members):
            raise ValueError(f"consensus needs 1 <= N <= {len(members)} models, got {need}")
        self.need = need
        self.members = list(members)
        self.model_id = model_id
        self.ledger = ledger if ledger is not None else UsageLedger()

    def __repr__(self) -> str:
        return f"ConsensusModel({self.model_id!r})"

    async def generate(self, inp: SignalInput, config: SignalConfig) -> SignalOutcome:
        """The agreed signal, HOLD without agreement, or a rejection if no member answered at all."""
        outs = await asyncio.gather(*(_guarded(m, inp, config) for m in self.members))
        usage = ZERO_USAGE
        for o in outs:
            usage = usage + o.usage
        latency = max(o.latency_ms for o in outs)
        signals = [o for o in outs if isinstance(o, Signal)]
        rejected = [o for o in outs if isinstance(o, Rejection)]
        if not signals and all(
            r.code.is_model_failure or r.code is RejectionCode.INTERNAL_ERROR for r in rejected
        ):
            detail = "; ".join(f"{r.model_id}: {r.code}" for r in rejected)
            return Rejection(
                symbol=inp.data.symbol,
                model_id=self.model_id,
                code=RejectionCode.MODEL_UNAVAILABLE,
                detail=_clip(f"no consensus member answered: {detail}"),
                prompt_version=rejected[0].prompt_version,
                latency_ms=latency,
                usage=usage,
                data_timestamp=inp.data.timestamp,
            )
        votes = Counter(s.action for s in signals)
        winners = [a for a in (Action.LONG, Action.SHORT, Action.CLOSE) if votes[a] >= self.need]
        tally = ", ".join(f"{a.value} {votes[a]}" for a in Action) + f", rejected {len(rejected)}"
        m = len(self.members)
        if len(winners) == 1:
            agreeing = [s for s in signals if s.action is winners[0]]
            best = max(agreeing, key=lambda s: s.confidence)
            names = ", ".join(s.model_id for s in agreeing)
            rationale = f"consensus {len(agreeing)}/{m} {winners[0].value} ({names}): "
            return msgspec.structs.replace(
                best,
                model_id=self.model_id,
                rationale=(rationale + best.rationale)[: config.validation.max_rationale_chars],
                usage=usage,
                latency_ms=latency,
            )
        versions = "+".join(sorted({o.prompt_version for o in outs if o.prompt_version}))
        return Signal(
            symbol=inp.data.symbol,
            action=Action.HOLD,
            entry_type=None,
            entry_price=None,
            mark_price=reference_price(inp.data),
            stop_loss=None,
            take_profits=(),
            confidence=0.0,
            leverage=None,
            horizon_hours=None,
            reward_risk=None,
            stop_atr=None,
            rationale=f"no consensus (need {self.need} of {m}): {tally}",
            model_id=self.model_id,
            prompt_version=versions,
            latency_ms=latency,
            usage=usage,
            data_timestamp=inp.data.timestamp,
        )

    async def aclose(self) -> None:
        """Close every member."""
        for m in self.members:
            await m.aclose()
