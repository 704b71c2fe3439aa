"""The size-bounded LRU of the answer caches (src/hrgraph/engine/lru.py): keys count too."""

from __future__ import annotations

from hrgraph.engine.lru import ENTRY_OVERHEAD, SizedLRU, footprint


def test_large_keys_with_tiny_values_stay_within_the_capacity() -> None:
    # The attack that grew the server by 2 GB: distinct 30 KB query strings, tiny answers.
    cache: SizedLRU[tuple[str, bytes], bytes] = SizedLRU(1_000_000, len)
    for n in range(500):
        cache.put((f"v{n}", b"q" * 30_000), b"ok")
    assert cache.size <= 1_000_000
    assert 0 < len(cache) <= 1_000_000 // 30_000
    assert cache.get(("v499", b"q" * 30_000)) == b"ok"  # the newest kept
    assert cache.get(("v0", b"q" * 30_000)) is None  # the oldest dropped


def test_every_entry_counts_its_overhead() -> None:
    cache: SizedLRU[int, bytes] = SizedLRU(10 * ENTRY_OVERHEAD, len)
    for n in range(1000):
        cache.put(n, b"")
    assert len(cache) < 10


def test_a_value_over_the_largest_is_not_kept() -> None:
    cache: SizedLRU[str, bytes] = SizedLRU(1000, len, largest=10)
    cache.put("a", b"x" * 11)
    assert cache.get("a") is None and cache.size == 0


def test_footprint_counts_nested_bytes() -> None:
    assert footprint((b"a" * 100, ("b" * 50,))) > 150
    assert footprint([(b"k", b"v" * 1000)]) > 1000
