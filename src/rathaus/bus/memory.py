"""The in-process event bus: the embedded default, for one Rathaus process."""

from __future__ import annotations

from rathaus.bus import Handler, Subscription, deliver
from rathaus.errors import BusUnavailable


class MemoryBus:
    """``publish`` calls every handler of the topic at once, in subscription order. Nothing is
    ever lost, so handlers are never called with ``None``."""

    def __init__(self) -> None:
        self._topics: dict[str, list[Subscription]] = {}
        self._closed = False

    async def start(self) -> None:
        self._check_open()

    async def close(self) -> None:
        self._closed = True
        for subscriptions in list(self._topics.values()):
            for subscription in list(subscriptions):
                subscription.close()

    async def publish(self, topic: str, payload: bytes) -> None:
        self._check_open()
        # Synchronous, no await: events of one topic reach handlers in publish order.
        deliver(self._topics.get(topic, ()), payload)

    async def subscribe(self, topic: str, handler: Handler) -> Subscription:
        self._check_open()
        subscription = Subscription(topic, handler, self._unsubscribe)
        self._topics.setdefault(topic, []).append(subscription)
        return subscription

    def _unsubscribe(self, subscription: Subscription) -> None:
        subscriptions = self._topics.get(subscription.topic, [])
        if subscription in subscriptions:
            subscriptions.remove(subscription)
        if not subscriptions:
            self._topics.pop(subscription.topic, None)

    def _check_open(self) -> None:
        if self._closed:
            raise BusUnavailable("the event bus is closed")
