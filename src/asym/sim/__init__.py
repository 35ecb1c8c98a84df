"""asym's Bybit V5-compatible exchange simulator: a pure, seeded core and a thin aiohttp server."""
