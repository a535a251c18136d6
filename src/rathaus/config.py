"""One typed settings object, read from ``rathaus.toml`` and ``RATHAUS_*`` environment variables.

Precedence: defaults < TOML file < environment < command-line flags. Every environment variable
is ``RATHAUS_<SECTION>_<KEY>`` in upper case, e.g. ``RATHAUS_SERVER_PORT=9000``.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from rathaus.errors import ConfigError


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ServerSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    data_dir: Path = Path("data")
    # Log client IP addresses (off by default: data minimisation).
    access_log: bool = False


class DatabaseSettings(_Section):
    # Empty means the embedded default: SQLite in the data directory.
    url: str = ""


class JanusNodeSettings(_Section):
    name: str
    url: str
    api_secret: str = ""

    @field_validator("url")
    @classmethod
    def _websocket_url(cls, value: str) -> str:
        if not value.startswith(("ws://", "wss://")):
            raise ValueError("a Janus node URL must start with ws:// or wss://")
        return value


class JanusSettings(_Section):
    # External nodes; when the list is empty Rathaus starts and manages one Janus itself.
    nodes: list[JanusNodeSettings] = []
    binary: str = "janus"
    # Interfaces Janus may use for ICE, e.g. "eth0" or "lo" (tests); empty means all.
    ice_enforce_list: str = ""
    # The public address when Janus runs behind 1:1 NAT.
    nat_1_1_mapping: str = ""
    rtp_port_min: int = Field(20000, ge=1024, le=65535)
    rtp_port_max: int = Field(40000, ge=1024, le=65535)
    request_timeout: float = Field(10.0, gt=0)

    @property
    def managed(self) -> bool:
        return not self.nodes


class TurnSettings(_Section):
    # e.g. ["turn:turn.example.org:3478?transport=udp", "turns:turn.example.org:443"]
    urls: list[str] = []
    # coturn's static-auth-secret (use-auth-secret); credentials are derived per participant.
    secret: str = ""
    ttl: int = Field(6 * 3600, ge=60, le=7 * 86400)

    @property
    def enabled(self) -> bool:
        return bool(self.urls and self.secret)


class MeetingSettings(_Section):
    # Opening /r/<name> creates the room if it does not exist yet.
    adhoc_rooms: bool = True
    max_participants: int = Field(200, ge=2, le=2000)
    # Seconds a participant whose connection dropped stays in the meeting, waiting to resume.
    resume_grace: float = Field(5.0, ge=0, le=600)
    # Seconds of silence after which a WebSocket counts as dead.
    keepalive_timeout: float = Field(10.0, ge=2, le=600)


class Settings(_Section):
    server: ServerSettings = ServerSettings()
    database: DatabaseSettings = DatabaseSettings()
    janus: JanusSettings = JanusSettings()
    turn: TurnSettings = TurnSettings()
    meeting: MeetingSettings = MeetingSettings()

    @property
    def database_url(self) -> str:
        if self.database.url:
            return self.database.url
        return f"sqlite+aiosqlite:///{self.server.data_dir.resolve() / 'rathaus.db'}"


def _merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _from_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    """Map RATHAUS_<SECTION>_<KEY> to nested settings; lists are given as TOML arrays."""
    result: dict[str, dict[str, Any]] = {}
    for section_name, field in Settings.model_fields.items():
        section_type = field.annotation
        assert isinstance(section_type, type) and issubclass(section_type, BaseModel)
        for key, key_field in section_type.model_fields.items():
            raw = environ.get(f"RATHAUS_{section_name}_{key}".upper())
            if raw is None:
                continue
            value: Any = raw
            if getattr(key_field.annotation, "__origin__", None) is list:
                try:
                    value = tomllib.loads(f"v = {raw}")["v"]
                except tomllib.TOMLDecodeError as exc:
                    raise ConfigError(
                        f"RATHAUS_{section_name}_{key}".upper() + f" is not a TOML array: {exc}"
                    ) from exc
            result.setdefault(section_name, {})[key] = value
    return result


def load_settings(
    config_file: Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Read the settings; raise ConfigError with a plain-words message when they are invalid."""
    environ = os.environ if environ is None else environ
    data: dict[str, Any] = {}
    path = config_file or (Path(environ["RATHAUS_CONFIG"]) if "RATHAUS_CONFIG" in environ else None)
    if path is None and Path("rathaus.toml").is_file():
        path = Path("rathaus.toml")
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"configuration file {path} does not exist") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"configuration file {path} is not valid TOML: {exc}") from exc
    data = _merge(data, _from_environment(environ))
    data = _merge(data, overrides or {})
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"invalid configuration: {problems}") from exc
