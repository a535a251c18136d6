"""One protocol, one source: the typed models of both directions and ``errors.ErrorCode`` against
docs/protocol.md, the browser's generated JSDoc types and the i18n catalogs."""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

import pytest
from pydantic import BaseModel

from rathaus.errors import ErrorCode
from rathaus.meetings import jsdoc
from rathaus.meetings import protocol as p
from rathaus.meetings import server_messages as sm
from rathaus.meetings.access import MODERATOR_ACTIONS

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "protocol.md").read_text()
CATALOGS = ROOT / "src" / "rathaus" / "web" / "static" / "i18n"


def members(union: object) -> list[type[BaseModel]]:
    return list(get_args(get_args(union)[0]))


def type_of(model: type[BaseModel]) -> str:
    return str(get_args(model.model_fields["type"].annotation)[0])


def wire_fields(model: type[BaseModel]) -> list[str]:
    return [info.alias or name for name, info in model.model_fields.items() if name != "type"]


def table_rows(direction: str) -> dict[str, str]:
    """Documented message type → its table row, from the tables of one direction: the main
    table under "## Client → server" / "## Server → client" and the moderation tables whose
    header names the direction."""
    rows: dict[str, str] = {}
    heading = "client → server" if direction == "client" else "server → client"
    section = ""
    in_table = False
    for line in DOC.splitlines():
        if line.startswith("## "):
            section = line[3:].lower()
        if not line.startswith("|"):
            in_table = False
            continue
        first = line.split("|")[1].strip().lower()
        if not in_table:
            in_table = section == heading or first.startswith(heading)
            continue  # the header row
        if first.startswith("---"):
            continue
        for name in re.findall(r"`([a-z_0-9]+)(?:[ `])", line.split("|")[1]):
            rows.setdefault(name, line)
    return rows


@pytest.mark.parametrize(
    ("direction", "model"),
    [("client", m) for m in members(p.ClientMessage)]
    + [("server", m) for m in members(sm.ServerMessage)],
    ids=lambda x: type_of(x) if isinstance(x, type) else x,
)
def test_every_message_and_field_is_documented(direction: str, model: type[BaseModel]) -> None:
    rows = table_rows(direction)
    name = type_of(model)
    assert name in rows, f"docs/protocol.md has no {direction} → row for `{name}`"
    for field in wire_fields(model):
        assert re.search(rf"\b{field}\b", rows[name]), f"`{name}` lacks `{field}` in the docs"


@pytest.mark.parametrize("direction", ["client", "server"])
def test_the_docs_name_no_message_that_does_not_exist(direction: str) -> None:
    union = p.ClientMessage if direction == "client" else sm.ServerMessage
    known = {type_of(m) for m in members(union)}
    assert set(table_rows(direction)) - known == set()


def test_the_docs_list_every_error_code_and_no_other() -> None:
    section = DOC.split("## Errors", 1)[1].split("\n## ", 1)[0]
    listed = section.split("Codes:", 1)[1].split("\n\n", 1)[0]
    documented = set(re.findall(r"`([a-z_0-9]+)`", listed))
    assert documented == {code.value for code in ErrorCode}


def test_the_browser_types_are_generated_from_the_models() -> None:
    text = jsdoc.PROTOCOL_JS.read_text()
    assert jsdoc.current(text) == jsdoc.generate(), (
        "web/static/js/protocol.js is out of date: run `python -m rathaus.meetings.jsdoc`"
    )


@pytest.mark.parametrize("language", ["de", "en"])
def test_every_error_code_has_a_text(language: str) -> None:
    catalog = (CATALOGS / f"{language}.js").read_text()
    keys = set(re.findall(r"^\s*'error\.([a-z_0-9]+)':", catalog, re.M))
    missing = {code.value for code in ErrorCode} - keys
    assert not missing, f"{language}.js has no text for {sorted(missing)}"


def test_every_moderator_action_can_be_shown() -> None:
    """`moderation {action}` is told for each moderator message (and for unlock/disallow): the
    shown actions' Literal must keep up with access.MODERATOR_ACTIONS."""
    shown = set(get_args(sm.ModerationAction))
    assert MODERATOR_ACTIONS <= shown
    assert shown - MODERATOR_ACTIONS == {"unlock", "disallow_unencrypted"}


def test_the_browser_parses_every_server_message() -> None:
    """protocol.js's parseServerMessage has a case for each server message (else the client
    drops it as unknown)."""
    text = jsdoc.PROTOCOL_JS.read_text()
    parser = text.split("export function parseServerMessage", 1)[1]
    handled = set(re.findall(r"^\s*case '([a-z_0-9]+)':", parser, re.M))
    assert {type_of(m) for m in members(sm.ServerMessage)} - handled == set()


@pytest.mark.parametrize("language", ["de", "en"])
def test_every_reaction_has_a_name(language: str) -> None:
    """The emoji buttons' accessible names and the announcements ("Anna reacts: thumbs up")."""
    catalog = (CATALOGS / f"{language}.js").read_text()
    keys = set(re.findall(r"^\s*'reaction\.([a-z_0-9]+)':", catalog, re.M))
    assert set(get_args(p.Reaction)) <= keys
