"""Recorded order-book streams: read Bybit's historical dump format and derive a shallower stream from a
deep one (e.g. orderbook.50 from orderbook.500), exactly as the venue would publish it: a snapshot, then
deltas of the changed top levels with size "0" for levels that left the top, `u` advancing by one."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path

from asym.errors import DataError


def read_dump(path: Path) -> list[bytes]:
    """The messages of a Bybit order-book dump (one JSON message per line; plain or zipped)."""
    try:
        if path.suffix == ".zip":
            with zipfile.ZipFile(path) as zf:
                raw = zf.read(zf.namelist()[0])
        else:
            raw = path.read_bytes()
    except (OSError, zipfile.BadZipFile, IndexError) as exc:
        raise DataError(f"cannot read order-book dump {path}: {exc}") from None
    return [line for line in raw.splitlines() if line.strip()]


def derive_depth_stream(messages: Iterable[bytes], depth: int) -> list[bytes]:
    """The orderbook.{depth} stream implied by a deeper stream: top `depth` levels after every message."""
    full: dict[str, dict[str, str]] = {"b": {}, "a": {}}
    prev: dict[str, dict[str, str]] | None = None
    out: list[bytes] = []
    for u, line in enumerate(messages, start=1):
        try:
            msg = json.loads(line)
            data = msg["data"]
            if msg["type"] == "snapshot":
                full = {"b": dict(data["b"]), "a": dict(data["a"])}
            else:
                for side in ("b", "a"):
                    for p, s in data[side]:
                        if Decimal(s) == 0:
                            full[side].pop(p, None)
                        else:
                            full[side][p] = s
        except (ValueError, KeyError, TypeError) as exc:
            raise DataError(f"order-book dump message {u}: {exc!r}") from None
        top = {
            "b": dict(sorted(full["b"].items(), key=lambda kv: -Decimal(kv[0]))[:depth]),
            "a": dict(sorted(full["a"].items(), key=lambda kv: Decimal(kv[0]))[:depth]),
        }
        if prev is None:
            kind, body = "snapshot", {side: [list(x) for x in top[side].items()] for side in ("b", "a")}
        else:
            old = prev
            kind, body = (
                "delta",
                {
                    side: [[p, s] for p, s in top[side].items() if old[side].get(p) != s]
                    + [[p, "0"] for p in old[side] if p not in top[side]]
                    for side in ("b", "a")
                },
            )
        payload = {
            "topic": f"orderbook.{depth}.{data['s']}",
            "type": kind,
            "ts": msg.get("ts", 0),
            "data": {"s": data["s"], **body, "u": u, "seq": data.get("seq", u)},
        }
        out.append(json.dumps(payload, separators=(",", ":")).encode())
        prev = top
    return out
