"""Indicators and enhanced per-asset data: pure functions over arrays and domain objects.

Entry points: `compute_enhanced(AssetInputs, AnalyticsConfig) -> EnhancedData`, `compute_enhanced_batch`,
`compute_enhanced_series(SeriesInputs, AnalyticsConfig)` (one symbol at every step of a history),
`to_json_dict` / `to_json_line`; formulas and thresholds in docs/enhanced-data.md.
"""

from asym.analytics.candles import CandleArrays, candles_to_arrays, resample_candles
from asym.analytics.config import DEFAULT_CONFIG, AnalyticsConfig
from asym.analytics.enhanced import compute_enhanced, compute_enhanced_batch
from asym.analytics.inputs import AssetInputs
from asym.analytics.serialize import to_json_dict, to_json_line
from asym.analytics.series import compute_enhanced_series
from asym.analytics.series_book import BookSeries
from asym.analytics.series_inputs import SeriesInputs, TickerSeries, window_inputs
from asym.analytics.types import (
    EnhancedData,
    FundingSentiment,
    NearbyLiquidations,
    OiSentiment,
    TechnicalIndicators,
)

__all__ = [
    "DEFAULT_CONFIG",
    "AnalyticsConfig",
    "AssetInputs",
    "BookSeries",
    "CandleArrays",
    "EnhancedData",
    "FundingSentiment",
    "NearbyLiquidations",
    "OiSentiment",
    "SeriesInputs",
    "TechnicalIndicators",
    "TickerSeries",
    "candles_to_arrays",
    "compute_enhanced",
    "compute_enhanced_batch",
    "compute_enhanced_series",
    "resample_candles",
    "to_json_dict",
    "to_json_line",
    "window_inputs",
]
