"""`commentstream replay all` on a running system: readers never see an error or an empty
thread, and the live projectors follow the switch to the new generation."""

import threading

import httpx

from storage.keys import PartitionKeys
from tests.processes import Stack


def test_replay_switches_generations_while_readers_keep_reading(
    api: httpx.Client, stack: Stack, thread_id: str
) -> None:
    last = None
    for n in range(30):
        last = api.post(f"/api/v1/threads/{thread_id}/comments", json={"body": f"n{n}"}).json()
    assert (
        api.get(f"/api/v1/threads/{thread_id}", params={"min_position": last["position"]}).json()[
            "count"
        ]
        == 30
    )

    seen: list[tuple[int, int]] = []
    stop = threading.Event()

    def read_throughout() -> None:
        with httpx.Client(base_url=stack.base_url, timeout=10) as reader:
            while not stop.is_set():
                response = reader.get(f"/api/v1/threads/{thread_id}")
                body = response.json()
                seen.append((response.status_code, body.get("count", -1)))

    reader = threading.Thread(target=read_throughout)
    reader.start()
    try:
        replay = stack.command("replay", "all")
    finally:
        stop.set()
        reader.join()
    assert replay.returncode == 0, replay.stderr
    assert "switched from generation 0 to 1" in replay.stderr
    assert len(seen) > 10
    assert all(status == 200 and count == 30 for status, count in seen), set(seen)

    client = stack.client()
    try:
        for p in range(4):
            assert client.get(PartitionKeys(p).active_generation("thread_view")) == "1"
        assert not list(client.scan_iter("cs:*:thread_view:0:*"))
    finally:
        client.close()
    after = api.post(f"/api/v1/threads/{thread_id}/comments", json={"body": "after"}).json()
    view = api.get(
        f"/api/v1/threads/{thread_id}", params={"min_position": after["position"]}
    ).json()
    assert view["count"] == 31 and view["position"] is not None
