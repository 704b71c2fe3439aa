"""A small thread-safe LRU bounded by the total size of its values (the answer caches use it)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class SizedLRU(Generic[K, V]):
    """Keeps the most recently used values within `capacity` (as measured by `size`); a value
    larger than `largest` is not kept at all."""

    def __init__(self, capacity: int, size: Callable[[V], int], largest: int | None = None) -> None:
        self.capacity = capacity
        self.largest = capacity if largest is None else largest
        self._size_of = size
        self._items: OrderedDict[K, V] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: K, value: V) -> None:
        size = self._size_of(value)
        if size > self.largest:
            return
        with self._lock:
            if key in self._items:
                return
            self._items[key] = value
            self._size += size
            while self._size > self.capacity:
                _, dropped = self._items.popitem(last=False)
                self._size -= self._size_of(dropped)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._size = 0
