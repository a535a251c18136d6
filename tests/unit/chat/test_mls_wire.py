"""The delivery service's reading of MLS headers (rathaus.chat.mls_wire), on real messages made
by ts-mls (tests/data/mls/, written by the browser's MLS module) and on bytes from Hypothesis."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rathaus.chat import mls_wire
from rathaus.chat.mls_wire import ContentType, MalformedMls, SenderType, WireFormat

DATA = Path(__file__).resolve().parents[2] / "data" / "mls"
GROUP_ID = bytes([7]) * 16


def fixture(name: str) -> bytes:
    return (DATA / name).read_bytes()


def test_a_commit_names_its_group_and_epoch() -> None:
    found = mls_wire.commit_header(fixture("commit-epoch0.bin"))
    assert found == mls_wire.Header(
        WireFormat.PUBLIC_MESSAGE, GROUP_ID, 0, ContentType.COMMIT, SenderType.MEMBER
    )


def test_an_application_message_names_its_group_and_epoch_not_its_sender() -> None:
    found = mls_wire.application_header(fixture("message-epoch1.bin"))
    assert (found.wire_format, found.group_id, found.epoch) == (
        WireFormat.PRIVATE_MESSAGE,
        GROUP_ID,
        1,
    )
    assert found.content_type is ContentType.APPLICATION and found.sender_type is None


def test_a_group_info_names_its_group_and_epoch() -> None:
    found = mls_wire.group_info_header(fixture("group-info-epoch1.bin"))
    assert (found.wire_format, found.group_id, found.epoch) == (WireFormat.GROUP_INFO, GROUP_ID, 1)


@pytest.mark.parametrize(
    ("read", "name"),
    [
        (mls_wire.commit_header, "message-epoch1.bin"),  # a message is no commit
        (mls_wire.application_header, "commit-epoch0.bin"),
        (mls_wire.group_info_header, "commit-epoch0.bin"),
        (mls_wire.commit_header, "welcome.bin"),  # welcomes and key packages are not taken
        (mls_wire.application_header, "key-package.bin"),
    ],
)
def test_a_message_of_another_kind_is_refused(read: object, name: str) -> None:
    with pytest.raises(MalformedMls):
        read(fixture(name))  # type: ignore[operator]


def test_a_private_message_must_end_where_its_ciphertext_ends() -> None:
    data = fixture("message-epoch1.bin")
    with pytest.raises(MalformedMls, match="bytes follow"):
        mls_wire.application_header(data + b"\0")
    with pytest.raises(MalformedMls, match="too early"):
        mls_wire.application_header(data[:-1])


def test_lengths_must_be_minimal_and_not_the_reserved_form() -> None:
    head = b"\x00\x01\x00\x01"  # MLS 1.0, PublicMessage
    with pytest.raises(MalformedMls, match="minimally"):
        mls_wire.header(head + b"\x40\x10" + GROUP_ID)  # 16 written in two bytes
    with pytest.raises(MalformedMls, match="reserved"):
        mls_wire.header(head + b"\xc0" + bytes(7))


def test_other_versions_and_wire_formats_are_refused() -> None:
    with pytest.raises(MalformedMls, match=r"MLS 1\.0"):
        mls_wire.header(b"\x00\x02\x00\x01")
    with pytest.raises(MalformedMls, match="WireFormat"):
        mls_wire.header(b"\x00\x01\x00\x09")


@given(st.binary(max_size=600))
def test_any_bytes_parse_or_are_refused_plainly(data: bytes) -> None:
    try:
        mls_wire.header(data)
    except MalformedMls:
        pass


@given(st.data())
def test_a_truncated_or_altered_commit_never_crashes(data: st.DataObject) -> None:
    commit = bytearray(fixture("commit-epoch0.bin"))
    at = data.draw(st.integers(0, len(commit) - 1))
    commit[at] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(commit)))
    try:
        mls_wire.header(bytes(commit[:cut]))
    except MalformedMls:
        pass
