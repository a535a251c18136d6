"""The options uvicorn runs Rathaus with (``rathaus serve`` and the tests' server alike)."""

import pytest

from rathaus.config import load_settings
from rathaus.errors import ConfigError
from rathaus.serving import uvicorn_options


def test_no_proxy_is_trusted_unless_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    # uvicorn on its own would trust 127.0.0.1, or whatever $FORWARDED_ALLOW_IPS says.
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "*")
    default = uvicorn_options(load_settings(environ={}))
    assert default["proxy_headers"] is False and default["forwarded_allow_ips"] == []


def test_the_configured_proxies_are_trusted() -> None:
    settings = load_settings(
        environ={"RATHAUS_SERVER_FORWARDED_ALLOW_IPS": '["10.0.0.0/24", "::1", " 127.0.0.1 "]'}
    )
    options = uvicorn_options(settings)
    assert options["proxy_headers"] is True
    assert options["forwarded_allow_ips"] == ["10.0.0.0/24", "::1", "127.0.0.1"]


@pytest.mark.parametrize("entry", ["*", "localhost", "10.0.0.0/33", "300.1.1.1", ""])
def test_a_bad_proxy_entry_is_a_clear_error(entry: str) -> None:
    with pytest.raises(ConfigError, match=r"server\.forwarded_allow_ips.*neither an IP address"):
        load_settings(environ={}, overrides={"server": {"forwarded_allow_ips": [entry]}})
