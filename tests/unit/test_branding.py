"""The installation's branding: its colour always gets readable text, its logo is checked at
start, and what it says is escaped wherever a page shows it."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rathaus.config import load_settings
from rathaus.errors import ConfigError
from rathaus.web.branding import MAX_LOGO_BYTES, Branding, contrast, logo_type, text_on
from rathaus.web.shell import brand_html, json_block, titled

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 16
SVG = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"></svg>'


@given(st.integers(0, 0xFFFFFF))
def test_the_text_on_any_accent_reaches_wcag_aa(value: int) -> None:
    accent = f"#{value:06x}"
    assert contrast(accent, text_on(accent)) >= 4.5


def test_text_on_light_and_dark_accents() -> None:
    assert text_on("#ffd34d") == "#000000"
    assert text_on("#0b5cad") == "#ffffff"
    assert round(contrast("#000000", "#ffffff"), 1) == 21.0


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (PNG, "image/png"),
        (b"\xff\xd8\xff\xe0" + b"\0" * 8, "image/jpeg"),
        (b"RIFF\0\0\0\0WEBPVP8 ", "image/webp"),
        (SVG, "image/svg+xml"),
        (b"  <svg viewBox='0 0 1 1'/>", "image/svg+xml"),
        (b"<html><script>alert(1)</script>", None),
        (b"GIF89a", None),
        (b"", None),
    ],
)
def test_logo_types_by_their_first_bytes(data: bytes, kind: str | None) -> None:
    assert logo_type(data) == kind


def branding(tmp_path: Path, **values: object) -> Branding:
    settings = load_settings(environ={}, overrides={"branding": values})
    return Branding.load(settings.branding)


def test_defaults(tmp_path: Path) -> None:
    assert branding(tmp_path, name="", logo="", accent="") == Branding()
    plain = branding(tmp_path)
    assert (plain.name, plain.accent, plain.logo) == ("Rathaus", "#0b5cad", None)
    assert plain.css() == ":root { --brand: #0b5cad; --on-brand: #ffffff; }\n"


def test_a_configured_brand(tmp_path: Path) -> None:
    logo = tmp_path / "wappen.svg"
    logo.write_bytes(SVG)
    made = branding(
        tmp_path, name="  Videokonferenz   der Stadt ", accent="#FFD34D", logo=str(logo)
    )
    assert made.name == "Videokonferenz der Stadt"
    assert made.css() == ":root { --brand: #ffd34d; --on-brand: #000000; }\n"
    assert (made.logo, made.logo_type) == (SVG, "image/svg+xml")


@pytest.mark.parametrize("accent", ["red", "#fff", "#12345g", "#1234567", "rgb(0,0,0)"])
def test_an_accent_that_is_no_colour_is_refused(tmp_path: Path, accent: str) -> None:
    with pytest.raises(ConfigError, match="accent"):
        branding(tmp_path, accent=accent)


def test_a_name_with_control_characters_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="name"):
        branding(tmp_path, name="Stadt\x07")


def test_a_logo_that_cannot_be_shown_stops_the_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        branding(tmp_path, logo=str(tmp_path / "missing.png"))
    page = tmp_path / "logo.html"
    page.write_bytes(b"<html></html>")
    with pytest.raises(ConfigError, match="PNG, JPEG, WebP or SVG"):
        branding(tmp_path, logo=str(page))
    big = tmp_path / "big.png"
    big.write_bytes(PNG + b"\0" * MAX_LOGO_BYTES)
    with pytest.raises(ConfigError, match="KiB"):
        branding(tmp_path, logo=str(big))


def test_the_name_is_escaped_in_the_header() -> None:
    html = brand_html(Branding(name='<img src=x onerror="alert(1)">'), "de")
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html
    assert html.startswith('<a class="brand" href="/?lang=de">')


def test_the_page_state_cannot_end_its_script_element() -> None:
    block = json_block({"name": "</script><script>alert(1)</script>", "amp": "&"})
    assert "<" not in block and ">" not in block and "&" not in block
    assert block == (
        '{"name":"\\u003c/script\\u003e\\u003cscript\\u003ealert(1)\\u003c/script\\u003e",'
        '"amp":"\\u0026"}'
    )


def test_titles() -> None:
    assert titled("Bauausschuss", "Rathaus") == "Bauausschuss \u2013 Rathaus"
