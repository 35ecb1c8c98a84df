"""Benchmarks (`asym bench ...`): real numbers side by side with peers, written to docs/benchmarks.md."""
