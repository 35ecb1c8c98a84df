"""The composition root of `asym run` (import the parts directly; this package imports nothing eagerly):

* `asym.app.clock`: `SteppedClock` (the embedded simulator's accelerated market time), `DataClock`;
* `asym.app.venues`: `open_trading_venue(spec)`: sim, a running simulator, paper, testnet, demo, mainnet;
* `asym.app.paper`: paper trading (live public data + a local matching engine);
* `asym.app.runner`: `RunConfig`, `run()` (collect -> signals -> risk -> execution -> monitoring);
* `asym.app.view`: the monitor's `SystemView` / `Controller` over a session;
* `asym.app.render`: the cycle lines and the summary table.
"""
