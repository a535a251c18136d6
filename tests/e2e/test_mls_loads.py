"""Chat's MLS library loads in the browser as Rathaus serves it: native ES modules from
``/static`` (``js/chat/mls.js`` and the vendored ts-mls under ``/static/vendor/``), no bundler,
no import map, under Rathaus's Content-Security-Policy (``script-src 'self'``, without
``'wasm-unsafe-eval'``). In the page, Anna creates a group, adds Ben, and one message makes the
round trip; in Chromium and in Firefox ESR (WebCrypto Ed25519 and X25519 in both).

Firefox runs WebDriver's scripts outside the page's CSP, so there the eval probe cannot show the
policy at work; Chromium's can. That no vendored module uses eval, ``Function`` or WebAssembly at
all is checked in tests/js/vendor.test.mjs."""

from __future__ import annotations

from typing import Any

from playwright.async_api import Page, Response

from tests.support.browser import OpenPage
from tests.support.firefox import FirefoxPage
from tests.support.pages import room

# An async function's source: run as it is in Chromium, called with a callback in Firefox.
ROUND_TRIP = """async () => {
  const mls = await import('/static/js/chat/mls.js');
  const keys = new Map();
  const authenticate = async (id, key) => {
    const known = keys.get(id);
    return known !== undefined && known.length === key.length
      && known.every((b, i) => b === key[i]);
  };
  const device = async () => {
    const {mls: d} = await mls.newDevice({authenticate});
    keys.set(d.id, d.signatureKey);
    return d;
  };
  const [anna, ben] = [await device(), await device()];
  const annas = await mls.createGroup(anna, 'room-in-the-page');
  const kp = await mls.keyPackage(ben);
  const {commit, welcome} = await mls.add(annas, [kp.bytes]);
  await mls.processCommit(annas, commit);
  const bens = await mls.join(ben, welcome, [kp]);
  const message = await mls.encrypt(annas, new TextEncoder().encode('Grüß Gott, Ben'));
  const read = await mls.decrypt(bens, message);
  const servus = await mls.encrypt(bens, new TextEncoder().encode('Servus'));
  const reply = await mls.decrypt(annas, servus);
  const sframe = async (g) => Array.from(await mls.exporter(g, 'SFrame 1.0 Base Key', 32)).join();
  let evalBlocked = false;
  try { (0, eval)('1'); } catch { evalBlocked = true; }
  const page = await fetch(location.href);
  return {
    text: new TextDecoder().decode(read.plaintext),
    senderIsAnna: read.sender.identity === anna.id,
    reply: new TextDecoder().decode(reply.plaintext),
    epoch: Number(bens.epoch),
    sameExporter: (await sframe(annas)) === (await sframe(bens)),
    evalBlocked,
    csp: page.headers.get('content-security-policy'),
  };
}"""

EXPECTED = {
    "text": "Grüß Gott, Ben",
    "senderIsAnna": True,
    "reply": "Servus",
    "epoch": 1,
    "sameExporter": True,
    "evalBlocked": True,
}


def check(result: dict[str, Any], *, eval_probe: bool = True) -> None:
    csp = result.pop("csp")
    if not eval_probe:
        result.pop("evalBlocked")
    assert result == {k: v for k, v in EXPECTED.items() if eval_probe or k != "evalBlocked"}
    # The page ran under Rathaus's policy, which allows neither eval nor WebAssembly.
    assert "script-src 'self';" in csp, csp
    assert "unsafe-eval" not in csp and "wasm-unsafe-eval" not in csp, csp


async def test_mls_loads_and_round_trips_in_chromium(open_page: OpenPage) -> None:
    vendored: list[Response] = []

    async def watch(page: Page) -> None:  # from the start: the room page imports the chat's MLS
        page.on("response", lambda r: vendored.append(r) if "/static/vendor/" in r.url else None)

    page = await open_page(f"/r/{room('m-')}?lang=en", before=watch)
    check(await page.evaluate(ROUND_TRIP))
    # Every vendored module came from our own origin (page_opener fails on any other host), as
    # JavaScript; none is missing (an optional dependency not vendored is never requested).
    assert vendored, "no module was loaded from /static/vendor/"
    for response in vendored:
        assert response.status == 200, response.url
        assert response.headers["content-type"].startswith("text/javascript"), response.url
    assert not any("not vendored" in r.url for r in vendored)


async def test_mls_loads_and_round_trips_in_firefox(firefox: FirefoxPage) -> None:
    await firefox.goto(f"/r/{room('m-')}?lang=en")
    result = await firefox.js_async(
        f"const done = arguments[arguments.length - 1];"
        f"({ROUND_TRIP})().then(done, (e) => done({{error: String(e), stack: e.stack}}));"
    )
    assert "error" not in result, result
    check(result, eval_probe=False)
