"""What "the page" of an event is (contract section 3)."""
from __future__ import annotations

import functools
import operator
from urllib.parse import urlsplit

from journeys.core.events import Event
from journeys.rules.masking import mask_text, mask_url, phone_regions


def url_path(url: str | None) -> str | None:
    """The URL's path without query string or fragment ("/" for a bare host), masked."""
    if not url:
        return None
    return _masked_path(url, phone_regions())


@functools.lru_cache(maxsize=65_536)
def _masked_path(url: str, regions: tuple[str, ...]) -> str | None:
    # Every event of a page repeats its URL: the cache (keyed by the masking regions too) makes them cheap.
    try:
        return mask_url(urlsplit(url).path or "/", regions)
    except ValueError:
        return None


def page_of(event: Event) -> str | None:
    """Web: the page URL's path; app: the screen name; chat: None. Masked either way.

    The page goes to page_views, friction rows and every daily table, so a
    screen name that carries an e-mail address is masked here, where it is
    derived, like a path. Masking is idempotent, so a page read back from the
    warehouse (already masked) stays the same page.
    """
    if event.channel == "web":
        return url_path(event.page_url)
    if event.channel == "app":
        return mask_text(event.screen_name)
    return None


def event_order(event: Event) -> tuple[int, str]:
    """The contract's event order: by event_time, ties by event_id."""
    return (event.event_time, event.event_id)


# ``event_order`` as a C-level getter: the same key, for sorting many events.
event_order_key = operator.attrgetter("event_time", "event_id")
