"""The chat socket's codec (rathaus.chat.protocol): what it takes and refuses, and that
docs/protocol.md's chat tables name every message and field, and no other."""

from __future__ import annotations

import re
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel

from rathaus.chat import protocol as cp
from rathaus.errors import BadMessage, TooLarge

DOC = (Path(__file__).resolve().parents[3] / "docs" / "protocol.md").read_text()


def chat_rows(direction: str) -> dict[str, str]:
    rows: dict[str, str] = {}
    in_table = False
    for line in DOC.splitlines():
        if not line.startswith("|"):
            in_table = False
            continue
        first = line.split("|")[1].strip()
        if not in_table:
            in_table = first == f"Chat: {direction}"
            continue
        if first.startswith("---"):
            continue
        for name in re.findall(r"`([a-z_]+)`", first):
            rows[name] = line
    return rows


def models(union: object) -> list[type[BaseModel]]:
    args = typing.get_args(union)
    if args and isinstance(args[0], type) and issubclass(args[0], BaseModel):
        return list(args)
    return models(args[0])


@pytest.mark.parametrize(
    ("direction", "union"),
    [("client → server", cp.ClientMessage), ("server → client", cp.ServerMessage)],
)
def test_the_docs_list_every_chat_message_and_field(direction: str, union: object) -> None:
    rows = chat_rows(direction)
    found = models(union)
    names = {m.model_fields["type"].annotation.__args__[0]: m for m in found}  # type: ignore[union-attr]
    assert set(rows) == set(names)
    for name, model in names.items():
        for field in set(model.model_fields) - {"type"}:
            assert re.search(rf"\b{field}\b", rows[name]), f"{name} lacks {field} in the docs"


def test_a_send_is_parsed_with_its_bytes() -> None:
    message = cp.parse_client_message(
        '{"type":"send","room":"team-a","id":"abcdefgh","message":"AAEAAg"}'
    )
    assert isinstance(message, cp.Send) and message.message == b"\x00\x01\x00\x02"


@pytest.mark.parametrize(
    "frame",
    [
        "not json",
        "[1]",
        '{"type":"send","room":"team-a","id":"short","message":"AAEAAg"}',  # id too short
        '{"type":"send","room":"Team A","id":"abcdefgh","message":"AAEAAg"}',  # no link name
        '{"type":"send","room":"team-a","id":"abcdefgh","message":"AAEAAg=="}',  # padded
        '{"type":"open","room":"team-a","after":-1}',
        '{"type":"hello","device":"x y"}',
        '{"type":"open","room":"team-a","extra":1}',
        '{"type":"unknown"}',
        "[" * 10_000,
    ],
)
def test_bad_frames_are_bad_messages(frame: str) -> None:
    with pytest.raises(BadMessage):
        cp.parse_client_message(frame)


def test_a_frame_over_the_limit_is_too_large() -> None:
    with pytest.raises(TooLarge):
        cp.parse_client_message(" " * (cp.MAX_FRAME + 1))
