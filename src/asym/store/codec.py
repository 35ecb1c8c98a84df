"""Table specifications and the conversion of rows to and from Arrow, with exact Decimal checks.

A `TableSpec` names a table's columns (with a kind per column), its primary key, how a conflict on that
key is resolved (keep the stored row, or upsert when the new row is at least as new), the column used for
time ranges (export, retention), and how a domain object becomes a row and back. Rows travel to DuckDB as
Arrow tables (fast bulk insert); money columns are decimal128(38,18), and a value that would not fit
exactly (NaN, Infinity, more than 18 decimals, 20+ integer digits, a float) is refused, never rounded.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pyarrow as pa

from asym.errors import DataError

Ctx = dict[str, Any]
"""Per-write context: venue (market data), depth (books), ..."""

_DEC_T = pa.decimal128(38, 18)
_ARROW: dict[str, pa.DataType] = {
    "str": pa.string(),
    "int": pa.int64(),
    "int32": pa.int32(),
    "bool": pa.bool_(),
    "float": pa.float64(),
    "dec": _DEC_T,
    "json": pa.string(),
    "strs": pa.list_(pa.string()),
    "decs": pa.list_(_DEC_T),
    "levels": pa.list_(pa.struct([("price", _DEC_T), ("size", _DEC_T)])),
}
_CTX = decimal.Context(prec=60)  # wide enough that normalising a 38-digit value never rounds it
_ONE = Decimal(1)
_QUANTUM = Decimal("1e-18")
_LIMIT = Decimal(10) ** 20


@dataclass(frozen=True)
class TableSpec:
    """One table: columns (name, kind), key, conflict policy, time column, and the row codec."""

    name: str
    cols: tuple[tuple[str, str], ...]
    key: tuple[str, ...]
    time_col: str
    encode: Callable[[Any, Ctx], tuple[Any, ...]]
    decode: Callable[[dict[str, Any]], Any]
    upsert: bool = False
    """On a key conflict: False keeps the stored row (DO NOTHING); True replaces it (DO UPDATE) ..."""
    upsert_where: str | None = None
    """... only when this SQL condition over `excluded` (new) and the table (stored) holds."""
    version_col: str | None = None
    """Within one batch, the duplicate with the highest value here wins (ties: the later one)."""
    names: tuple[str, ...] = field(init=False)
    schema: pa.Schema = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", tuple(n for n, _ in self.cols))
        object.__setattr__(self, "schema", pa.schema([(n, _ARROW[k]) for n, k in self.cols]))

    def insert_sql(self, source: str) -> str:
        """INSERT ... SELECT FROM `source` ON CONFLICT per the policy."""
        cols = ", ".join(self.names)
        key = ", ".join(self.key)
        head = f"INSERT INTO {self.name} ({cols}) SELECT {cols} FROM {source} ON CONFLICT ({key})"
        if not self.upsert:
            return head + " DO NOTHING"
        rest = [n for n in self.names if n not in self.key]
        sets = ", ".join(f"{n} = excluded.{n}" for n in rest)
        # rewriting an identical row is not a change: keeps counts honest and the WAL small
        differs = " OR ".join(f"excluded.{n} IS DISTINCT FROM {self.name}.{n}" for n in rest)
        cond = f"({self.upsert_where}) AND ({differs})" if self.upsert_where else differs
        return head + f" DO UPDATE SET {sets} WHERE {cond}"


def norm_decimal(d: Decimal | None) -> Decimal | None:
    """Canonical form of a stored Decimal: no trailing zeros, integers without exponent (never rounds)."""
    if d is None:
        return None
    return d.quantize(_ONE, context=_CTX) if d == d.to_integral_value() else d.normalize(_CTX)


def decimal_problem(v: object) -> str | None:
    """Why `v` cannot be stored exactly in DECIMAL(38,18), or None when it can (None itself is fine)."""
    if v is None or (isinstance(v, int) and not isinstance(v, bool) and abs(v) < _LIMIT):
        return None
    if isinstance(v, float):
        return f"float {v!r} is not allowed for money (use Decimal)"
    if not isinstance(v, Decimal):
        return f"{type(v).__name__} {v!r} is not a Decimal"
    if not v.is_finite():
        return f"{v} is not finite"
    if abs(v) >= _LIMIT:
        return f"{v} has more than 20 integer digits"
    if v != v.quantize(_QUANTUM, context=_CTX):
        return f"{v} has more than 18 decimal places"
    return None


def _cell_problem(kind: str, v: Any) -> str | None:
    if kind == "dec":
        return decimal_problem(v)
    if kind == "decs":
        return next((p for p in map(decimal_problem, v or ()) if p), None)
    if kind == "levels":
        return next((p for lv in v or () for p in map(decimal_problem, lv.values()) if p), None)
    if kind == "float" and v is not None and not isinstance(v, float | int):
        return f"{type(v).__name__} {v!r} is not a number"
    return None


def bad_rows(spec: TableSpec, rows: Sequence[tuple[Any, ...]]) -> list[tuple[int, str]]:
    """(row index, reason) of each row that cannot be stored exactly."""
    out = []
    kinds = [k for _, k in spec.cols]
    for i, row in enumerate(rows):
        for (name, kind), v in zip(spec.cols, row, strict=True):
            p = _cell_problem(kind, v)
            if p:
                out.append((i, f"{name}: {p}"))
                break
        else:
            try:
                _build(spec, [row], kinds)
            except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError, ValueError) as e:
                out.append((i, str(e)))
    return out


def _build(spec: TableSpec, rows: Sequence[tuple[Any, ...]], kinds: list[str]) -> pa.Table:
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in kinds]
    arrays = [pa.array(col, type=_ARROW[k]) for col, k in zip(columns, kinds, strict=True)]
    return pa.Table.from_arrays(arrays, schema=spec.schema)


def dedupe(spec: TableSpec, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """One row per key: the first for keep-stored tables, the newest (version_col, then last) for upserts."""
    idx = [spec.names.index(k) for k in spec.key]
    ver = spec.names.index(spec.version_col) if spec.version_col else None
    best: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    for row in rows:
        k = tuple(row[i] for i in idx)
        old = best.get(k)
        if old is None or (spec.upsert and (ver is None or row[ver] >= old[ver])):
            best[k] = row
    return list(best.values()) if len(best) != len(rows) else rows


def to_arrow(spec: TableSpec, rows: Sequence[tuple[Any, ...]]) -> pa.Table:
    """Rows to an Arrow table; DataError naming the first bad rows when any value does not fit exactly."""
    kinds = [k for _, k in spec.cols]
    try:
        return _build(spec, rows, kinds)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError, ValueError) as e:
        bad = bad_rows(spec, rows) or [(-1, str(e))]
        shown = "; ".join(f"row {i}: {why}" for i, why in bad[:5])
        raise DataError(f"{spec.name}: {len(bad)} row(s) cannot be stored exactly: {shown}") from e


def from_arrow(spec: TableSpec, table: pa.Table) -> list[dict[str, Any]]:
    """Arrow result (columns named as in the spec) to row dicts with canonical Decimals."""
    kinds = dict(spec.cols)
    cols: dict[str, list[Any]] = {}
    for name in table.column_names:
        values = table.column(name).to_pylist()
        kind = kinds.get(name)
        if kind == "dec":
            values = [norm_decimal(v) for v in values]
        elif kind == "decs":
            values = [[norm_decimal(x) for x in v] if v is not None else None for v in values]
        elif kind == "levels":
            values = [[[norm_decimal(lv["price"]), norm_decimal(lv["size"])] for lv in v] for v in values]
        cols[name] = values
    names = list(cols)
    return [dict(zip(names, vals, strict=True)) for vals in zip(*cols.values(), strict=True)]


__all__ = [
    "Ctx",
    "TableSpec",
    "bad_rows",
    "decimal_problem",
    "dedupe",
    "from_arrow",
    "norm_decimal",
    "to_arrow",
]
