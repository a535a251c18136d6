"""Janus media layer: sans-IO API core, asyncio client, VideoRoom helpers, supervisor, pool."""

from .client import JanusClient, JanusHandle, JanusSession
from .pool import JanusNode, JanusPool
from .supervisor import JanusSupervisor

__all__ = [
    "JanusClient",
    "JanusHandle",
    "JanusNode",
    "JanusPool",
    "JanusSession",
    "JanusSupervisor",
]
