"""The load generator's readers respect Bybit's per-connection limit on subscribed topic names."""

from __future__ import annotations

import itertools

from asym.sim.server.loadtest import shard_topics
from asym.sim.server.ws_protocol import PUBLIC_ARGS_LIMIT


def test_topics_are_split_in_order_under_the_per_connection_limit() -> None:
    topics = [f"orderbook.50.SYM{i}USDT" for i in range(2_000)]
    shards = shard_topics(topics)
    assert [t for s in shards for t in s] == topics  # nothing lost, nothing reordered
    assert all(sum(map(len, s)) <= PUBLIC_ARGS_LIMIT for s in shards)
    # No more connections than needed: each shard is full (the next topic would not have fitted).
    assert len(shards) > 1
    for shard, following in itertools.pairwise(shards):
        assert sum(map(len, shard)) + len(following[0]) > PUBLIC_ARGS_LIMIT
    assert shard_topics(["a", "b"], limit=1) == [["a"], ["b"]]
    assert shard_topics([]) == [[]]
