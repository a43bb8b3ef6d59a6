"""The author key cache of a long-running service: expired keys leave it, and it stays bounded."""

import pytest

from storage import key_vault
from storage.key_vault import AuthorKeyVault


def test_expired_keys_leave_the_cache_and_it_never_outgrows_its_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = [1000.0]
    monkeypatch.setattr(key_vault.time, "monotonic", lambda: clock[0])
    vault = AuthorKeyVault(None, "secret")  # type: ignore[arg-type]  # no Redis needed here

    def hold(actors: list[str]) -> None:
        vault.remember_wrapped(actors, [vault._wrap(a, bytes(32)) for a in actors])

    first = [f"anon:{n}" for n in range(100)]
    hold(first)
    assert vault.uncached(first) == []
    clock[0] += key_vault.CACHE_SECONDS + 1
    hold([f"anon:later{n}" for n in range(20)])
    assert len(vault._cache) == 20  # the hundred expired ones are gone, not just ignored

    monkeypatch.setattr(key_vault, "MAX_HELD", 10)
    hold([f"anon:more{n}" for n in range(5)])
    assert len(vault._cache) == 10
    assert vault.uncached(["anon:more4"]) == []  # the newest stay
