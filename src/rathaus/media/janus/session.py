"""Janus sessions and plugin handles: the lower levels of the client's resource tree.

:class:`JanusSession` sends ``keepalive`` every ``keepalive_interval`` seconds and detaches its
handles when destroyed; :class:`JanusHandle` sends plugin messages and hands asynchronous events
(``webrtcup``, ``media``, ``hangup``, plugin notifications, ...) to its ``on_event`` callback. Both
die with the connection: calls on a dead one raise :class:`JanusUnavailable`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rathaus.errors import JanusError, JanusProtocolError, JanusTimeout, JanusUnavailable

from .core import (
    Ack,
    Detached,
    ErrorReply,
    Event,
    HandleEvent,
    JsonDict,
    PluginEvent,
    ServerInfo,
    SessionTimeout,
    Success,
)

if TYPE_CHECKING:
    from .client import JanusClient

logger = logging.getLogger(__name__)

EventCallback = Callable[[HandleEvent], None]


def _call_safely(callback: Callable[..., None], *args: Any) -> None:
    """Run a user callback; an exception is logged and never reaches the reader loop."""
    try:
        callback(*args)
    except Exception:
        logger.exception("Janus callback %r failed", getattr(callback, "__qualname__", callback))


def _new_id(event: Event) -> int:
    if not isinstance(event, Success) or event.data is None:
        raise JanusProtocolError("expected a success reply with data.id")
    value = event.data.get("id")
    if isinstance(value, bool) or not isinstance(value, int):
        raise JanusProtocolError("data.id must be an integer")
    return value


def _plugin_result(event: Event) -> tuple[JsonDict, JsonDict | None]:
    """``(plugindata.data, jsep)`` of a plugin reply; JanusError if the plugin refused."""
    if isinstance(event, PluginEvent):
        if event.error_code is not None:
            raise JanusError(event.error_code, event.error or "")
        return event.data, event.jsep
    if isinstance(event, Success) and event.plugindata is not None:
        err = event.plugin_error
        if err is not None:
            raise JanusError(*err)
        return event.plugindata["data"], event.jsep
    raise JanusProtocolError(f"expected a plugin reply, got {type(event).__name__}")


class JanusSession:
    """A Janus session: owns handles, sends ``keepalive`` every ``keepalive_interval`` seconds."""

    def __init__(self, client: JanusClient, session_id: int) -> None:
        self.client = client
        self.id = session_id
        self.alive = True
        self._handles: dict[int, JanusHandle] = {}
        self._keepalive: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f"<JanusSession {self.id} {'alive' if self.alive else 'dead'}>"

    @property
    def handles(self) -> list[JanusHandle]:
        return list(self._handles.values())

    def _check(self) -> None:
        if not self.alive:
            raise JanusUnavailable("the Janus session is gone")

    async def attach(self, plugin: str, on_event: EventCallback | None = None) -> JanusHandle:
        """``attach``: a handle on ``plugin`` (e.g. ``janus.plugin.videoroom``)."""
        self._check()
        event = await self.client._call("attach", session_id=self.id, plugin=plugin)
        handle = JanusHandle(self, _new_id(event), plugin, on_event)
        self._handles[handle.id] = handle
        return handle

    async def destroy(self) -> None:
        """Detach every handle, then ``destroy`` the session. Idempotent; never raises for a
        session that is already gone."""
        if not self.alive:
            return
        handles = list(self._handles.values())
        await asyncio.gather(*(h.detach() for h in handles), return_exceptions=True)
        self._die(notify=False)
        self.client._forget(self)
        with contextlib.suppress(JanusUnavailable, JanusError):
            await self.client._call("destroy", session_id=self.id)

    def _start_keepalive(self) -> None:
        self._keepalive = asyncio.create_task(self._keepalive_loop(), name="janus-keepalive")

    async def _keepalive_loop(self) -> None:
        while self.alive:
            await asyncio.sleep(self.client.keepalive_interval)
            try:
                await self.client._call("keepalive", session_id=self.id)
            except JanusTimeout:
                self.client.unresponsive()  # the node's health: its keepalives, not requests
                return
            except JanusUnavailable:
                return  # the connection is down; _lost() kills this session
            except JanusError as exc:
                logger.warning("Janus refused a keepalive (%s); the session is gone", exc.code)
                self.client._forget(self)
                self._die(notify=True)
                return

    def _die(self, *, notify: bool) -> None:
        """Mark the session and its handles dead; with ``notify`` tell each handle's callback
        (a synthetic :class:`Detached`)."""
        self.alive = False
        task, self._keepalive = self._keepalive, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
        handles, self._handles = self._handles, {}
        for handle in handles.values():
            handle._die(notify=notify)

    def _deliver(self, handle_id: int, event: Event) -> None:
        handle = self._handles.get(handle_id)
        if handle is None:
            return
        if isinstance(event, Detached):
            del self._handles[handle_id]
            handle._die(notify=True)
            return
        handle._deliver(event)

    def _forget(self, handle: JanusHandle) -> None:
        if self._handles.get(handle.id) is handle:
            del self._handles[handle.id]


class JanusHandle:
    """A handle on a plugin. Asynchronous events for it go to ``on_event``."""

    def __init__(
        self, session: JanusSession, handle_id: int, plugin: str, on_event: EventCallback | None
    ) -> None:
        self.session = session
        self.id = handle_id
        self.plugin = plugin
        self.on_event = on_event
        self.alive = True

    def __repr__(self) -> str:
        return f"<JanusHandle {self.id} {self.plugin} {'alive' if self.alive else 'dead'}>"

    def _check(self) -> None:
        if not self.alive:
            raise JanusUnavailable("the Janus handle is gone")

    async def _message(self, body: JsonDict, jsep: JsonDict | None) -> Event:
        self._check()
        return await self.session.client._call(
            "message",
            final_on_ack=False,
            session_id=self.session.id,
            handle_id=self.id,
            body=body,
            jsep=jsep,
        )

    async def request(self, body: JsonDict) -> JsonDict:
        """A synchronous plugin request (videoroom ``create``, ``destroy``, ``exists``,
        ``listparticipants``, ``edit``, ...): Janus answers ``success``; returns
        ``plugindata.data``. Raises JanusError for a core error or a plugin ``error_code``."""
        data, _ = _plugin_result(await self._message(body, None))
        return data

    async def message(
        self, body: JsonDict, jsep: JsonDict | None = None
    ) -> tuple[JsonDict, JsonDict | None]:
        """An asynchronous plugin request (videoroom ``join``, ``configure``, ``publish``,
        ``start``, ...): Janus sends ``ack``, then an ``event`` with the same transaction.
        Returns ``(plugindata.data, jsep)`` of that event."""
        return _plugin_result(await self._message(body, jsep))

    async def trickle(self, candidate: JsonDict | None) -> None:
        """``trickle`` one candidate; ``None`` sends ``{"completed": true}``."""
        self._check()
        await self.session.client._call(
            "trickle",
            session_id=self.session.id,
            handle_id=self.id,
            candidate=candidate if candidate is not None else {"completed": True},
        )

    async def hangup(self) -> None:
        """``hangup``: close the handle's PeerConnection, keep the handle."""
        self._check()
        await self.session.client._call("hangup", session_id=self.session.id, handle_id=self.id)

    async def detach(self) -> None:
        """``detach`` the handle. Idempotent; never raises for a handle that is already gone."""
        if not self.alive:
            return
        self._die(notify=False)
        self.session._forget(self)
        with contextlib.suppress(JanusUnavailable, JanusError):
            await self.session.client._call("detach", session_id=self.session.id, handle_id=self.id)

    def _deliver(self, event: Event) -> None:
        if self.on_event is not None and not isinstance(event, Ack):
            assert not isinstance(event, Success | ErrorReply | ServerInfo | SessionTimeout)
            _call_safely(self.on_event, event)

    def _die(self, *, notify: bool) -> None:
        if not self.alive:
            return
        self.alive = False
        if notify:
            self._deliver(Detached(self.session.id, self.id))
