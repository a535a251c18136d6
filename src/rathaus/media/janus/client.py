"""asyncio adapter over the sans-IO core: one WebSocket to one Janus node (sessions and handles
are in :mod:`.session`).

Resource tree: :class:`JanusClient` → :class:`JanusSession` → :class:`JanusHandle`. Destroying a
session detaches its handles; losing the connection kills every session and handle (Janus sessions
do not survive a reconnect: the caller recreates them when ``on_up`` fires).

The client reconnects by itself (0.2 s doubling to 5 s). While it is down every request fails at
once with :class:`JanusUnavailable`; a request that gets no answer within ``request_timeout`` fails
with :class:`JanusTimeout`, which says nothing about the node: the node is down when its connection
drops or a session's keepalive goes unanswered (:meth:`JanusClient.unresponsive`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
from websockets.typing import Subprotocol

from rathaus.errors import JanusError, JanusProtocolError, JanusTimeout, JanusUnavailable

from .core import (
    SUBPROTOCOL,
    Ack,
    ErrorReply,
    Event,
    JanusProtocol,
    JsonDict,
    ServerInfo,
    SessionTimeout,
    Success,
)
from .session import EventCallback, JanusHandle, JanusSession, _call_safely, _new_id

logger = logging.getLogger(__name__)

RECONNECT_MIN, RECONNECT_MAX = 0.2, 5.0
KEEPALIVE_INTERVAL = 25.0
MAX_FRAME = 1 << 20

Listener = Callable[[], None]


@dataclass
class _Pending:
    future: asyncio.Future[Event]
    final_on_ack: bool


class JanusClient:
    """A self-healing connection to one Janus node's WebSocket API."""

    def __init__(
        self,
        url: str,
        api_secret: str | None,
        *,
        request_timeout: float = 10.0,
        keepalive_interval: float = KEEPALIVE_INTERVAL,
    ) -> None:
        self.url = url
        self.request_timeout = request_timeout
        self.keepalive_interval = keepalive_interval
        self._proto = JanusProtocol(api_secret)
        self._ws: ClientConnection | None = None
        self._pending: dict[str, _Pending] = {}
        self._sessions: dict[int, JanusSession] = {}
        self._listeners: list[tuple[Listener | None, Listener | None]] = []
        self._run_task: asyncio.Task[None] | None = None
        self._up: asyncio.Event | None = None
        self._closing = False

    def __repr__(self) -> str:
        return f"<JanusClient {self.url} {'up' if self.connected else 'down'}>"

    # --- connection ---------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._ws is not None

    @property
    def sessions(self) -> list[JanusSession]:
        return list(self._sessions.values())

    def add_listener(
        self, on_down: Listener | None = None, on_up: Listener | None = None
    ) -> Callable[[], None]:
        """Call ``on_up`` after every (re)connection, ``on_down`` after every loss.

        Returns a function that removes the listener. After ``on_down`` every session and handle
        of this client is dead; recreate them from ``on_up``.
        """
        entry = (on_down, on_up)
        self._listeners.append(entry)

        def remove() -> None:
            with contextlib.suppress(ValueError):
                self._listeners.remove(entry)

        return remove

    async def connect(self, *, wait: bool = True) -> None:
        """Start connecting (and reconnecting for as long as the client is open).

        With ``wait`` (the default) wait for the first connection; raise
        :class:`JanusUnavailable` if it does not succeed within ``request_timeout`` (the client
        keeps trying in the background until :meth:`close`).
        """
        if self._closing:
            raise JanusUnavailable("the Janus client is closed")
        if self._run_task is None:
            self._up = asyncio.Event()
            self._run_task = asyncio.create_task(self._run(), name=f"janus-client {self.url}")
        if wait:
            assert self._up is not None
            try:
                await asyncio.wait_for(self._up.wait(), self.request_timeout)
            except TimeoutError:
                raise JanusUnavailable("cannot connect to Janus") from None

    async def close(self) -> None:
        """Close the connection; fail pending requests; kill sessions. Idempotent."""
        self._closing = True
        task, self._run_task = self._run_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._lost(JanusUnavailable("the Janus client is closed"))

    async def _run(self) -> None:
        delay = RECONNECT_MIN
        while not self._closing:
            try:
                ws = await connect(
                    self.url,
                    subprotocols=[Subprotocol(SUBPROTOCOL)],
                    max_size=MAX_FRAME,
                    open_timeout=self.request_timeout,
                    proxy=None,
                    compression=None,
                )
            except (OSError, TimeoutError, InvalidHandshake, InvalidURI) as exc:
                logger.debug("connecting to Janus failed (%s); retry in %.1f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RECONNECT_MAX)
                continue
            delay = RECONNECT_MIN
            try:
                await self._serve(ws)
            finally:
                await ws.close()
                self._lost(JanusUnavailable("the connection to Janus was lost"))
            if not self._closing:
                logger.warning("connection to Janus lost; reconnecting")
                for on_down, _ in list(self._listeners):
                    if on_down is not None:
                        _call_safely(on_down)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RECONNECT_MAX)

    async def _serve(self, ws: ClientConnection) -> None:
        if ws.subprotocol != SUBPROTOCOL:
            logger.error("Janus did not accept the %s subprotocol", SUBPROTOCOL)
            return
        self._ws = ws
        assert self._up is not None
        self._up.set()
        logger.info("connected to Janus")
        for _, on_up in list(self._listeners):
            if on_up is not None:
                _call_safely(on_up)
        try:
            async for frame in ws:
                try:
                    events = self._proto.receive_data(frame)
                except JanusProtocolError as exc:
                    logger.warning("ignoring a malformed frame from Janus: %s", exc)
                    continue
                for event in events:
                    try:
                        self._dispatch(event)
                    except Exception:  # a bug here must not stop the reader loop
                        logger.exception("dispatching a %s failed", type(event).__name__)
        except ConnectionClosed:
            pass

    def unresponsive(self) -> None:
        """A keepalive went unanswered: the node counts as down. Dropping the connection kills
        its sessions here and at Janus (which ends a transport's sessions with it), tells the
        listeners, and reconnects."""
        ws = self._ws
        if ws is not None:
            logger.warning("Janus did not answer a keepalive; reconnecting")
            ws.transport.abort()

    def _lost(self, error: JanusUnavailable) -> None:
        """The connection is gone: fail every pending request, kill every session."""
        self._ws = None
        if self._up is not None:
            self._up.clear()
        pending, self._pending = self._pending, {}
        for p in pending.values():
            if not p.future.done():
                p.future.set_exception(error)
        sessions, self._sessions = self._sessions, {}
        for session in sessions.values():
            session._die(notify=True)

    # --- incoming -----------------------------------------------------------------------------

    def _dispatch(self, event: Event) -> None:
        transaction = getattr(event, "transaction", None)
        if transaction is not None:
            pending = self._pending.get(transaction)
            if pending is not None:
                if isinstance(event, Ack) and not pending.final_on_ack:
                    return
                del self._pending[transaction]
                if not pending.future.done():
                    pending.future.set_result(event)
                return
        if isinstance(event, Ack | Success | ErrorReply | ServerInfo):
            logger.debug("late or unexpected %s from Janus", type(event).__name__)
            return
        if isinstance(event, SessionTimeout):
            session = self._sessions.pop(event.session_id, None)
            if session is not None:
                logger.warning("Janus timed out a session")
                session._die(notify=True)
            return
        session = self._sessions.get(event.session_id) if event.session_id is not None else None
        if session is None or event.handle_id is None:
            logger.debug("Janus event %s for no known handle", type(event).__name__)
            return
        session._deliver(event.handle_id, event)

    # --- outgoing -----------------------------------------------------------------------------

    async def _call(self, janus: str, *, final_on_ack: bool = True, **fields: Any) -> Event:
        """Send one request; return its final reply. ``ErrorReply`` raises JanusError."""
        ws = self._ws
        if ws is None:
            raise JanusUnavailable("not connected to Janus")
        transaction, text = self._proto.request(janus, **fields)
        future: asyncio.Future[Event] = asyncio.get_running_loop().create_future()
        self._pending[transaction] = _Pending(future, final_on_ack)
        try:
            async with asyncio.timeout(self.request_timeout):
                await ws.send(text)
                event = await future
        except TimeoutError:
            raise JanusTimeout(f"Janus did not answer {janus!r} in time") from None
        except ConnectionClosed:
            raise JanusUnavailable("the connection to Janus was lost") from None
        finally:
            self._pending.pop(transaction, None)
        if isinstance(event, ErrorReply):
            raise JanusError(event.code, event.reason)
        return event

    async def info(self) -> JsonDict:
        """The ``info`` request: Janus's ``server_info`` (version, plugins, transports, ...)."""
        event = await self._call("info")
        if not isinstance(event, ServerInfo):
            raise JanusProtocolError(f"expected server_info, got {type(event).__name__}")
        return event.info

    async def create_session(self) -> JanusSession:
        """``create``: a new Janus session, kept alive until destroyed or the connection drops."""
        session_id = _new_id(await self._call("create"))
        session = JanusSession(self, session_id)
        self._sessions[session_id] = session
        session._start_keepalive()
        return session

    def _forget(self, session: JanusSession) -> None:
        if self._sessions.get(session.id) is session:
            del self._sessions[session.id]


__all__ = ["EventCallback", "JanusClient", "JanusHandle", "JanusSession", "Listener"]
