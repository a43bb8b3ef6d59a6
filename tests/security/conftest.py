"""The browser fixtures serve the injection test too."""

from tests.browser.conftest import browser, host_site, open_reader

__all__ = ["browser", "host_site", "open_reader"]
