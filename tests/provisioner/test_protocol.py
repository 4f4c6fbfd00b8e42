"""Framing of the serial protocol v1 (DESIGN.md §2.1) and the request/reply channel."""

from __future__ import annotations

import binascii
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from provisioner.errors import DeviceError, NoReplyError, TransportError
from provisioner.protocol import Channel, FrameError, crc_hex, decode_reply, encode_request
from provisioner.transport import Transport
from tests.provisioner.scripted import ScriptedDevice, frame, parse_request


def test_request_frame_is_body_star_crc32_in_lowercase_hex():
    line = encode_request(42, "TIME", "1700000000")
    body = b"42 TIME 1700000000"
    assert line == body + b"*" + f"{binascii.crc32(body):08x}".encode() + b"\n"
    assert crc_hex(b"1 HELLO") == "93b2e785"


@pytest.mark.parametrize("request_id", [0, 10000, -1])
def test_request_ids_outside_1_to_9999_are_refused(request_id):
    with pytest.raises(ValueError):
        encode_request(request_id, "HELLO")


def test_a_request_longer_than_200_bytes_is_refused_before_sending():
    with pytest.raises(ValueError, match="more than 200"):
        encode_request(1, "SEED", "X" * 200)


def test_ok_reply_decodes_to_fields_and_err_to_code_and_words():
    ok = decode_reply(frame("7 OK state=seeded").rstrip(b"\n"))
    assert (ok.request_id, ok.ok, ok.fields) == (7, True, {"state": "seeded"})
    err = decode_reply(frame("0 ERR crc").rstrip(b"\n"))
    assert (err.request_id, err.ok, err.code, err.words) == (0, False, "crc", ())
    # a trailing CR is ignored and the CRC is accepted in upper case
    upper = b"7 OK state=seeded*" + crc_hex(b"7 OK state=seeded").upper().encode() + b"\r"
    assert decode_reply(upper).fields == {"state": "seeded"}


@pytest.mark.parametrize(
    "line",
    [
        b"7 OK state=seeded*00000000",  # wrong CRC
        b"7 OK state=seeded",  # no CRC
        b"MicroPython v1.24 on 2024-01-01; linux",  # a REPL banner
        b">>> ",
        frame("1 HELLO").rstrip(b"\n"),  # our own request echoed back
        frame("x OK").rstrip(b"\n"),  # no id
        frame("7 OK noequals").rstrip(b"\n"),
        b"\xff\xfe*12345678",
    ],
)
def test_anything_but_a_reply_frame_is_a_frame_error(line):
    with pytest.raises(FrameError):
        decode_reply(line)


def test_loop_transport_reads_back_lines_and_times_out_on_silence():
    with Transport("loop://") as link:
        link.write(b"one\r\ntwo\n")
        deadline = time.monotonic() + 1
        assert link.read_line(deadline) == b"one"
        assert link.read_line(deadline) == b"two"
        start = time.monotonic()
        assert link.read_line(time.monotonic() + 0.2) is None
        assert 0.15 < time.monotonic() - start < 1.0


def test_loop_transport_drops_an_over_long_line_up_to_its_newline():
    with Transport("loop://") as link:
        link.write(b"x" * 2000 + b"\nnext\n")
        assert link.read_line(time.monotonic() + 1) == b"next"


def test_the_channel_drops_its_own_echo_and_times_out_with_a_clear_error():
    # loop:// sends our request straight back: an echo is not a reply.
    with Transport("loop://") as link:
        channel = Channel(link, timeout=0.3)
        with pytest.raises(NoReplyError) as caught:
            channel.request("HELLO")
        assert caught.value.noise_lines == 1
        assert "ne parle pas le protocole Jeton" in str(caught.value)


def test_replies_with_another_id_are_dropped_and_ours_is_returned():
    def script(line):
        rid, verb, _ = parse_request(line)
        stale = frame(f"{int(rid) % 9999 + 1} OK state=locked")  # someone else's id
        return b"garbage\n" + stale + frame(f"{rid} OK proto=1 state=blank")

    with ScriptedDevice(script) as device, Transport(device.port) as link:
        channel = Channel(link, timeout=2)
        reply = channel.request("HELLO")
        assert reply.fields == {"proto": "1", "state": "blank"}
        assert channel.dropped == 2


def test_an_err_reply_raises_device_error_with_its_code():
    def script(line):
        rid, _, _ = parse_request(line)
        return frame(f"{rid} ERR state")

    with ScriptedDevice(script) as device, Transport(device.port) as link:
        with pytest.raises(DeviceError) as caught:
            Channel(link).request("LOCK")
    assert caught.value.code == "state"
    assert "la clé refuse LOCK : state" in str(caught.value)


def test_a_silent_device_is_a_no_reply_error_after_the_overall_timeout():
    with ScriptedDevice(lambda line: b"") as device, Transport(device.port) as link:
        start = time.monotonic()
        with pytest.raises(NoReplyError) as caught:
            Channel(link, timeout=0.3).request("HELLO")
        assert caught.value.silent
        assert time.monotonic() - start < 2


def test_request_ids_wrap_from_9999_to_1():
    with Transport("loop://") as link:
        channel = Channel(link)
        channel._next_id = 9999
        assert [channel._take_id() for _ in range(3)] == [9999, 1, 2]


def test_a_missing_port_is_a_transport_error_naming_it():
    with pytest.raises(TransportError, match="/dev/ttyJETON-absent"):
        Transport("/dev/ttyJETON-absent")

WORD = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-=abcdef", min_size=1, max_size=20)


@given(st.binary(max_size=300))
def test_any_bytes_either_decode_as_a_reply_or_are_a_frame_error(line):
    try:
        reply = decode_reply(line)
    except FrameError:
        return
    assert 0 <= reply.request_id <= 9999


@given(st.integers(1, 9999), st.sampled_from(["HELLO", "TIME", "SEED", "PROVE", "CODE", "LOCK", "WIPE"]),
       st.lists(WORD, max_size=5))
def test_every_request_we_encode_is_a_well_formed_frame(request_id, verb, args):
    try:
        line = encode_request(request_id, verb, *args)
    except ValueError:
        assert len(" ".join([str(request_id), verb, *args])) + 9 > 200
        return
    assert line.endswith(b"\n") and len(line) <= 201
    body, star, crc = line[:-1].rpartition(b"*")
    assert star and crc == crc_hex(body).encode()
    assert body.decode().split(" ") == [str(request_id), verb, *args]


@given(st.integers(0, 9999), st.dictionaries(st.text("abcdefghijklmnop", min_size=1, max_size=8),
                                              st.text("ABC0123-=", max_size=10), max_size=6))
def test_an_ok_reply_decodes_back_to_its_fields(request_id, fields):
    body = " ".join([str(request_id), "OK", *(f"{k}={v}" for k, v in fields.items())])
    reply = decode_reply(body.encode() + b"*" + crc_hex(body.encode()).encode())
    assert (reply.request_id, reply.ok) == (request_id, True)
    assert reply.fields == {k: v for k, v in fields.items()}
