"""Indicators and enhanced per-asset data: pure functions over arrays and domain objects."""
