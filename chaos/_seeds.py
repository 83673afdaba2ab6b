"""One root seed, many independent random streams.

Every source of randomness in a run is a stream derived from the root seed
and a name (``"scheduler"``, ``"faults"``, ``"fault:3"``, ``"workload"``,
``"jitter"``, ``"ids"``, ``"swarm"``, ``"point:<name>"``), by hashing, not by
drawing from a shared generator: adding a fault, a fault point or a
workload step never reshuffles another stream.
"""

from __future__ import annotations

import hashlib
import random

__all__ = ["derive", "stream"]

_DOMAIN = "jido-trio.chaos/1"


def derive(root: int, name: str) -> int:
    """A 64-bit seed for the stream ``name`` of the root seed ``root``."""
    digest = hashlib.sha256(f"{_DOMAIN}:{root}:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def stream(root: int, name: str) -> random.Random:
    """A new ``random.Random`` for the stream ``name`` of ``root``."""
    return random.Random(derive(root, name))
