"""The installation's name, logo and accent colour (config ``[branding]``), as every page shows
them: the header, ``/branding.css`` (the accent as CSS custom properties: inline styles are
refused by our Content-Security-Policy) and ``/branding/logo``."""

from __future__ import annotations

from dataclasses import dataclass

from rathaus.config import BrandingSettings
from rathaus.errors import ConfigError

DEFAULT_NAME = "Rathaus"
DEFAULT_ACCENT = "#0b5cad"
MAX_LOGO_BYTES = 512 * 1024


def _luminance(colour: str) -> float:
    """Relative luminance of "#rrggbb" (WCAG 2.1)."""

    def channel(hex_pair: str) -> float:
        c = int(hex_pair, 16) / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(colour[i : i + 2]) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def text_on(colour: str) -> str:
    """Black or white, whichever contrasts more with ``colour`` (one of them always reaches
    4.5:1, WCAG AA for text)."""
    return "#000000" if contrast(colour, "#000000") >= contrast(colour, "#ffffff") else "#ffffff"


def logo_type(data: bytes) -> str | None:
    """The media type of a logo file, by its first bytes; None if it is none we show."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    head = data[:1024].lstrip().lower()
    if head.startswith((b"<svg", b"<?xml")) and b"<svg" in head:
        return "image/svg+xml"
    return None


@dataclass(frozen=True)
class Branding:
    name: str = DEFAULT_NAME
    accent: str = DEFAULT_ACCENT
    logo: bytes | None = None
    logo_type: str | None = None

    @classmethod
    def load(cls, settings: BrandingSettings) -> Branding:
        """From the config; a logo that cannot be read or shown stops the start with a clear
        error rather than a broken image on every page."""
        logo, kind = None, None
        if settings.logo is not None:
            try:
                logo = settings.logo.read_bytes()
            except OSError as exc:
                raise ConfigError(f"branding.logo: cannot read {settings.logo}: {exc}") from exc
            if len(logo) > MAX_LOGO_BYTES:
                raise ConfigError(f"branding.logo: at most {MAX_LOGO_BYTES // 1024} KiB")
            kind = logo_type(logo)
            if kind is None:
                raise ConfigError("branding.logo: a PNG, JPEG, WebP or SVG file")
        return cls(
            name=settings.name or DEFAULT_NAME,
            accent=settings.accent or DEFAULT_ACCENT,
            logo=logo,
            logo_type=kind,
        )

    def css(self) -> str:
        return f":root {{ --brand: {self.accent}; --on-brand: {text_on(self.accent)}; }}\n"
