"""The gateway's page cache serves a page only while it was built at the same checkpoints."""

from services.gateway.page_cache import PageCache


def test_a_page_is_served_again_only_while_its_checkpoints_stand() -> None:
    cache = PageCache()
    cache.put("thread-a", ("1-0", "1-0"), b"page one")
    assert cache.get("thread-a", ("1-0", "1-0")) == b"page one"
    assert cache.get("thread-a", ("2-0", "1-0")) is None  # a comment was folded since
    assert cache.get("thread-a", ("1-0", "2-0")) is None  # a like was folded since
    assert cache.get("thread-b", ("1-0", "1-0")) is None
    assert (cache.hits, cache.misses) == (1, 3)


def test_the_least_recently_read_pages_go_first_when_full() -> None:
    cache = PageCache(max_bytes=40)
    cache.put("a", 1, b"x" * 10)
    cache.put("b", 1, b"x" * 10)
    assert cache.get("a", 1) is not None
    cache.put("c", 1, b"x" * 10)
    cache.put("d", 1, b"x" * 10)
    cache.put("e", 1, b"x" * 10)  # over 40 bytes: "b" was read least recently
    assert cache.get("b", 1) is None
    assert all(cache.get(key, 1) is not None for key in "acde")
    cache.put("huge", 1, b"x" * 11)  # over a quarter of the budget: not kept
    assert cache.get("huge", 1) is None
