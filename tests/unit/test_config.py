from pathlib import Path

import pytest

from rathaus.config import load_settings
from rathaus.errors import ConfigError


def test_defaults_are_the_embedded_setup() -> None:
    settings = load_settings(environ={})
    assert (settings.server.host, settings.server.port) == ("127.0.0.1", 8080)
    assert settings.janus.managed
    assert settings.database_url.startswith("sqlite+aiosqlite:///")
    assert settings.meeting.e2ee_required  # every meeting end-to-end encrypted by default


def test_file_then_environment_then_overrides(tmp_path: Path) -> None:
    config = tmp_path / "rathaus.toml"
    config.write_text('[server]\nport = 9000\nhost = "0.0.0.0"\n[turn]\nsecret = "s"\n')
    settings = load_settings(
        config,
        environ={"RATHAUS_SERVER_PORT": "9100", "RATHAUS_TURN_URLS": '["turn:t.example:3478"]'},
        overrides={"server": {"host": "127.0.0.2"}},
    )
    assert settings.server.port == 9100
    assert settings.server.host == "127.0.0.2"
    assert settings.turn.enabled


def test_external_janus_nodes(tmp_path: Path) -> None:
    config = tmp_path / "rathaus.toml"
    config.write_text('[[janus.nodes]]\nname = "a"\nurl = "ws://10.0.0.5:8188"\napi_secret = "x"\n')
    settings = load_settings(config, environ={})
    assert not settings.janus.managed
    assert settings.janus.nodes[0].url == "ws://10.0.0.5:8188"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("[server]\nport = 70000\n", "server.port"),
        ("[server]\nprot = 1\n", "server.prot"),
        ("[[janus.nodes]]\nname = 'a'\nurl = 'http://x'\n", "ws://"),
        ("[server\n", "not valid TOML"),
    ],
)
def test_bad_files_say_what_is_wrong(tmp_path: Path, text: str, says: str) -> None:
    config = tmp_path / "rathaus.toml"
    config.write_text(text)
    with pytest.raises(ConfigError, match=says.replace(".", r"\.")):
        load_settings(config, environ={})


def test_bad_environment_says_which_variable() -> None:
    with pytest.raises(ConfigError, match="RATHAUS_TURN_URLS"):
        load_settings(environ={"RATHAUS_TURN_URLS": "turn:x"})
