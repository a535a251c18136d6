"""What the delivery service reads of an MLS message (RFC 9420 §6): its wire format, group,
epoch and content type — the clear header of PublicMessage, PrivateMessage and GroupInfo.

Sans-IO and without cryptography: the server orders commits by the epoch a message states and
never verifies signatures or decrypts (the members' devices do). Anything that is not a whole,
minimally encoded MLS 1.0 message of a known kind raises :class:`MalformedMls`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TypeVar

MLS10 = 1
MAX_GROUP_ID = 256  # Rathaus's group ids are 16 to 64 bytes; RFC 9420 sets no limit
_E = TypeVar("_E", bound=enum.IntEnum)


class MalformedMls(ValueError):
    """Bytes that are not the MLS message they should be (the message never repeats them)."""


class WireFormat(enum.IntEnum):
    PUBLIC_MESSAGE = 1
    PRIVATE_MESSAGE = 2
    WELCOME = 3
    GROUP_INFO = 4
    KEY_PACKAGE = 5


class ContentType(enum.IntEnum):
    APPLICATION = 1
    PROPOSAL = 2
    COMMIT = 3


class SenderType(enum.IntEnum):
    MEMBER = 1
    EXTERNAL = 2
    NEW_MEMBER_PROPOSAL = 3
    NEW_MEMBER_COMMIT = 4


@dataclass(frozen=True)
class Header:
    wire_format: WireFormat
    group_id: bytes
    epoch: int
    content_type: ContentType | None  # None for a GroupInfo
    sender_type: SenderType | None  # PublicMessage only: a PrivateMessage hides its sender


class _Reader:
    def __init__(self, data: bytes) -> None:
        self._data = data
        self._at = 0

    def take(self, n: int) -> bytes:
        if self._at + n > len(self._data):
            raise MalformedMls("the MLS message ends too early")
        chunk = self._data[self._at : self._at + n]
        self._at += n
        return chunk

    def uint(self, n: int) -> int:
        return int.from_bytes(self.take(n), "big")

    def varint(self) -> int:
        """RFC 9420 §2.1.2: a QUIC-style length of 1, 2 or 4 bytes, minimally encoded."""
        first = self.uint(1)
        prefix, value = first >> 6, first & 0x3F
        if prefix == 3:
            raise MalformedMls("an MLS length uses the reserved 8-byte form")
        for _ in range((1 << prefix) - 1):
            value = (value << 8) | self.uint(1)
        if prefix and value < (1 << (8 * (1 << (prefix - 1)) - 2)):
            raise MalformedMls("an MLS length is not minimally encoded")
        return value

    def vector(self, limit: int | None = None) -> bytes:
        n = self.varint()
        if limit is not None and n > limit:
            raise MalformedMls("an MLS field is too long")
        return self.take(n)

    def enum(self, kind: type[_E], n: int) -> _E:
        value = self.uint(n)
        try:
            return kind(value)
        except ValueError:
            raise MalformedMls(f"unknown {kind.__name__} {value}") from None

    def done(self) -> None:
        if self._at != len(self._data):
            raise MalformedMls("bytes follow the MLS message")


def header(data: bytes) -> Header:
    """The clear header of a PublicMessage, PrivateMessage or GroupInfo."""
    reader = _Reader(data)
    if reader.uint(2) != MLS10:
        raise MalformedMls("not an MLS 1.0 message")
    wire_format = reader.enum(WireFormat, 2)
    if wire_format is WireFormat.PUBLIC_MESSAGE:
        return _public(reader)
    if wire_format is WireFormat.PRIVATE_MESSAGE:
        return _private(reader)
    if wire_format is WireFormat.GROUP_INFO:
        reader.uint(2)  # GroupContext: version, then cipher suite
        reader.uint(2)
        group_id = reader.vector(MAX_GROUP_ID)
        return Header(wire_format, group_id, reader.uint(8), None, None)
    raise MalformedMls(f"an MLS {wire_format.name.lower()} is not expected here")


def _public(reader: _Reader) -> Header:
    group_id = reader.vector(MAX_GROUP_ID)
    epoch = reader.uint(8)
    sender_type = reader.enum(SenderType, 1)
    if sender_type in (SenderType.MEMBER, SenderType.EXTERNAL):
        reader.uint(4)  # leaf index / sender index
    reader.vector()  # authenticated_data
    content_type = reader.enum(ContentType, 1)
    return Header(WireFormat.PUBLIC_MESSAGE, group_id, epoch, content_type, sender_type)


def _private(reader: _Reader) -> Header:
    group_id = reader.vector(MAX_GROUP_ID)
    epoch = reader.uint(8)
    content_type = reader.enum(ContentType, 1)
    reader.vector()  # authenticated_data
    reader.vector()  # encrypted_sender_data
    reader.vector()  # ciphertext
    reader.done()
    return Header(WireFormat.PRIVATE_MESSAGE, group_id, epoch, content_type, None)


def check_key_package(data: bytes, cipher_suite: int) -> None:
    """A KeyPackage of MLS 1.0 and ``cipher_suite`` (RFC 9420 §10); its signature and lifetime
    are for the devices that use it to check."""
    reader = _Reader(data)
    if reader.uint(2) != MLS10 or reader.uint(2) != WireFormat.KEY_PACKAGE:
        raise MalformedMls("not an MLS key package")
    if reader.uint(2) != MLS10:
        raise MalformedMls("not a key package of MLS 1.0")
    if reader.uint(2) != cipher_suite:
        raise MalformedMls("a key package of another cipher suite")


def welcome_header(data: bytes, cipher_suite: int) -> None:
    """A Welcome (RFC 9420 §12.4.3.1) of ``cipher_suite``: for the new devices only."""
    reader = _Reader(data)
    if reader.uint(2) != MLS10 or reader.uint(2) != WireFormat.WELCOME:
        raise MalformedMls("not an MLS welcome")
    if reader.uint(2) != cipher_suite:
        raise MalformedMls("a welcome of another cipher suite")


def commit_header(data: bytes) -> Header:
    """A commit as the delivery service takes it: a PublicMessage whose content is a commit
    (members' devices must read its proposals, so it is not encrypted)."""
    found = header(data)
    if found.wire_format is not WireFormat.PUBLIC_MESSAGE or found.content_type is not (
        ContentType.COMMIT
    ):
        raise MalformedMls("a commit must be an MLS PublicMessage with a commit")
    return found


def application_header(data: bytes) -> Header:
    """An application message: a PrivateMessage (encrypted, sender hidden)."""
    found = header(data)
    if found.wire_format is not WireFormat.PRIVATE_MESSAGE or found.content_type is not (
        ContentType.APPLICATION
    ):
        raise MalformedMls("a chat message must be an MLS PrivateMessage with application data")
    return found


def group_info_header(data: bytes) -> Header:
    found = header(data)
    if found.wire_format is not WireFormat.GROUP_INFO:
        raise MalformedMls("not an MLS GroupInfo")
    return found
