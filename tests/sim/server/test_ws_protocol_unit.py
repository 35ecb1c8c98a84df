"""WebSocket framing and Bybit's per-stream acks/pongs (pure)."""

from __future__ import annotations

import json
import struct

import pytest

from asym.sim.server import ws_protocol as proto


@pytest.mark.parametrize("n", [0, 1, 125, 126, 65535, 65536, 200_000])
def test_text_frame_header_encodes_the_length(n: int) -> None:
    payload = b"x" * n
    frame = proto.text_frame(payload)
    assert frame[0] == 0x81, "FIN + text opcode"
    assert frame[1] & 0x80 == 0, "server frames are not masked"
    length = frame[1] & 0x7F
    if n < 126:
        assert length == n and frame[2:] == payload
    elif n < 65536:
        assert length == 126 and struct.unpack("!H", frame[2:4])[0] == n and frame[4:] == payload
    else:
        assert length == 127 and struct.unpack("!Q", frame[2:10])[0] == n and frame[10:] == payload


MISSING = proto.req_id_of({})


def test_linear_pong_and_ack_echo_req_id_with_its_type() -> None:
    pong = json.loads(proto.pong("linear", "c1", 7, 123))
    assert pong == {"success": True, "ret_msg": "pong", "conn_id": "c1", "req_id": 7, "op": "ping"}
    pong = json.loads(proto.pong("linear", "c1", MISSING, 123))
    assert pong["req_id"] == ""
    ack = json.loads(proto.ack("linear", "c1", "abc", "subscribe", True))
    assert ack == {"success": True, "ret_msg": "", "conn_id": "c1", "req_id": "abc", "op": "subscribe"}


def test_private_pong_and_ack() -> None:
    assert json.loads(proto.pong("private", "c", "test", 1675418560633)) == {
        "req_id": "test",
        "op": "pong",
        "args": ["1675418560633"],
        "conn_id": "c",
    }
    ack = json.loads(proto.ack("private", "c", MISSING, "auth", True))
    assert ack == {"success": True, "ret_msg": "", "op": "auth", "conn_id": "c"}


def test_spot_and_option_formats() -> None:
    assert json.loads(proto.pong("spot", "c", MISSING, 1)) == {
        "success": True,
        "ret_msg": "pong",
        "conn_id": "c",
        "op": "ping",
    }
    assert json.loads(proto.pong("option", "c", 5, 1672916271846)) == {
        "args": ["1672916271846"],
        "op": "pong",
    }
    nack = json.loads(proto.ack("option", "c", MISSING, "subscribe", False, "x", ["orderbook.25.X"]))
    assert nack["type"] == "COMMAND_RESP" and nack["data"]["failTopics"] == ["orderbook.25.X"]
    spot_ack = json.loads(proto.ack("spot", "c", "10001", "subscribe", True))
    assert spot_ack["ret_msg"] == "subscribe" and spot_ack["req_id"] == "10001"
