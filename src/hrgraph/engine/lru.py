"""A small thread-safe LRU bounded by the bytes of its entries, keys included (the answer caches
use it: a key can be as large as a request's query string)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

#: What Python spends on one object beyond its bytes (header, pointers; about 50-100 bytes), and
#: on one entry of the ordered dictionary: counted so that many tiny entries are bounded too.
OBJECT_OVERHEAD = 64
ENTRY_OVERHEAD = 160


def footprint(value: object) -> int:
    """Bytes held by `value`: str, bytes, numbers and nested tuples/lists of them, approximated
    from above by their lengths plus a per-object overhead."""
    if isinstance(value, str | bytes | bytearray):
        return OBJECT_OVERHEAD + len(value)
    if isinstance(value, tuple | list):
        return OBJECT_OVERHEAD + 8 * len(value) + sum(footprint(item) for item in value)
    return OBJECT_OVERHEAD


class SizedLRU(Generic[K, V]):
    """Keeps the most recently used entries within `capacity` bytes, each entry measured as
    `size(value)` plus the footprint of its key; a value larger than `largest` is not kept."""

    def __init__(self, capacity: int, size: Callable[[V], int], largest: int | None = None) -> None:
        self.capacity = capacity
        self.largest = capacity if largest is None else largest
        self._size_of = size
        self._items: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    @property
    def size(self) -> int:
        """The bytes the entries are counted as (never more than `capacity`)."""
        return self._size

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: K) -> V | None:
        with self._lock:
            entry = self._items.get(key)
            if entry is None:
                return None
            self._items.move_to_end(key)
            return entry[0]

    def put(self, key: K, value: V) -> None:
        size = self._size_of(value)
        if size > self.largest:
            return
        size += footprint(key) + ENTRY_OVERHEAD
        with self._lock:
            if key in self._items:
                return
            self._items[key] = (value, size)
            self._size += size
            while self._size > self.capacity:
                _, (_, dropped) = self._items.popitem(last=False)
                self._size -= dropped

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._size = 0
