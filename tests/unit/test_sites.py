"""The sites file: a site's moderation policy is read from `[sites.NAME.moderation]`."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from services.settings import Settings
from services.sites import Sites

SITES_FILE = """
[sites.myblog]
origins = ["https://myblog.example"]

[sites.myblog.moderation]
mode = "first_time"
max_links = 3
suspect_words = ["casino"]
banned_words = ["viagra"]
auto_close_days = 30
disposable_email = "refuse"
moderators = ["sso:editor-1"]
"""


def sites_from(tmp_path: Path, text: str) -> Sites:
    path = tmp_path / "sites.toml"
    path.write_text(text)
    return Sites.from_settings(Settings(sites_file=str(path)))


def test_a_site_has_the_moderation_policy_of_its_table(tmp_path: Path) -> None:
    sites = sites_from(tmp_path, SITES_FILE)
    policy = sites.get("myblog").moderation
    assert (policy.mode, policy.max_links, policy.auto_close_days) == ("first_time", 3, 30)
    assert policy.suspect_words == ("casino",) and policy.banned_words == ("viagra",)
    assert policy.disposable_email == "refuse" and policy.moderators == ("sso:editor-1",)
    assert sites.get("other").moderation.mode == "post"  # unconfigured: the defaults


def test_a_wrong_moderation_setting_is_refused_with_its_name(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as refused:
        sites_from(tmp_path, SITES_FILE.replace('mode = "first_time"', 'mode = "sometimes"'))
    assert "moderation.mode" in str(refused.value)
    with pytest.raises(ValidationError):
        sites_from(tmp_path, SITES_FILE + "surprise = 1\n")


def test_the_default_policy_comes_from_the_settings_and_sites_start_from_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "sites.toml"
    path.write_text(SITES_FILE + '\n[sites.plain]\norigins = ["https://plain.example"]\n')
    settings = Settings(
        sites_file=str(path),
        moderation='{"mode": "pre", "max_links": 5, "moderators": ["sso:boss"]}',
    )
    sites = Sites.from_settings(settings)
    default = sites.get("default").moderation
    assert (default.mode, default.max_links, default.moderators) == ("pre", 5, ("sso:boss",))
    assert sites.get("unlisted").moderation == default
    plain = sites.get("plain").moderation
    assert (plain.mode, plain.max_links, plain.moderators) == ("pre", 5, ())  # not its moderators
    myblog = sites.get("myblog").moderation
    assert (myblog.mode, myblog.max_links) == ("first_time", 3)  # its own table wins
    with pytest.raises(ValidationError):
        Sites.from_settings(Settings(moderation='{"mode": "sometimes"}'))
