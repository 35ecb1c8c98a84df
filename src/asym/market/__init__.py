"""Market data: validation and quality events (`validation`, `quality`), file loaders (`loaders`).

The collector (orchestration over a `Venue`) lives here too once it exists; it validates every object
with `asym.market.validation`, stores the events with `asym.store`, and sets `EnhancedData.quality_flags`
from `QualityReport.flags_for`.
"""

from asym.market.loaders import (
    DirtyDataError,
    KlineArrays,
    LoadReport,
    load_funding,
    load_klines,
    load_klines_array,
)
from asym.market.quality import (
    Completeness,
    QualityEvent,
    QualityKind,
    QualityReport,
    Severity,
    ValidationConfig,
)

__all__ = [
    "Completeness",
    "DirtyDataError",
    "KlineArrays",
    "LoadReport",
    "QualityEvent",
    "QualityKind",
    "QualityReport",
    "Severity",
    "ValidationConfig",
    "load_funding",
    "load_klines",
    "load_klines_array",
]
