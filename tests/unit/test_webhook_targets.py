"""Webhook targets: http(s) to public addresses only, unless private ones are allowed."""

import pytest

from services.webhook_targets import TargetRefused, check_target


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "https://192.168.0.5/hook",
        "http://169.254.169.254/latest/meta-data",  # a cloud's metadata service
        "http://[::1]/hook",
        "ftp://example.org/hook",
        "http:///no-host",
    ],
)
async def test_loopback_private_and_odd_targets_are_refused(url: str) -> None:
    with pytest.raises(TargetRefused):
        await check_target(url, allow_private=False)


async def test_a_public_address_is_taken_and_private_ones_when_allowed() -> None:
    await check_target("https://93.184.216.34/hook", allow_private=False)
    await check_target("http://127.0.0.1:8000/hook", allow_private=True)
    with pytest.raises(TargetRefused):
        await check_target("ftp://127.0.0.1/hook", allow_private=True)
