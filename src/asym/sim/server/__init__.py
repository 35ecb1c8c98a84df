"""The simulator's aiohttp shell: Bybit V5 REST + WebSocket, auth, rate limits and fault injection.

Entry points: `asym.sim.server.app.SimServer` (start/stop a server) and `asym.sim.server.testing`
(`running_simulator`, `simulator_in_thread`) for tests.
"""
