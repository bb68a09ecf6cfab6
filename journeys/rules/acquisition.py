"""A journey's acquisition channel: GA4's default channel grouping, reduced.

``traffic_source`` derives (source, medium) the way GA4 does; ``channel_group``
runs GA4's "channels for manual traffic" rules, first match wins, in GA4's
published order, and maps each GA4 group to a contract channel:

 1. Direct          source "(direct)" and medium "(none)" or "(not set)" -> direct
 2. Cross-network   campaign contains "cross-network"                   -> other
 3. Paid Shopping   campaign matches the shopping pattern, paid medium  -> other
 4. Paid Search     source in ``search_engines``, paid medium            -> paid_search
 5. Paid Social     source in ``social_sites``, paid medium (*)          -> social
 6. Display         medium in ``display_mediums``                        -> display
 7. Paid Other      paid medium (``paid_medium_pattern``)                -> other
 8. Organic Shopping campaign matches the shopping pattern              -> other
 9. Organic Social  source in ``social_sites`` or medium in ``social_mediums`` -> social
10. Organic Video   medium contains "video"                             -> other
11. Organic Search  source in ``search_engines`` or medium "organic"     -> organic_search
12. Referral        medium "referral", "app" or "link"                  -> referral
13. Email           source or medium in ``email_values``                -> email
14. Affiliates      medium in ``affiliate_mediums``                     -> affiliate
15. Audio, SMS, Mobile Push Notifications, Unassigned                   -> other

So ``cpm`` from a search engine is Paid Search (4 before 6), from any other
source Display (6 before 7); ``cpc`` from an unlisted source is Paid Other.

Deviations from GA4, all deliberate:
 - (*) Paid Social also fires for a paid medium listed in ``social_mediums``
   (``paid_social``...) from an unlisted source; GA4 calls that Paid Other, but
   the contract counts paid social as social and the configuration lists those
   mediums as social, where under GA4's order they could never match.
 - GA4 has no configured shopping or video site lists here: Paid/Organic
   Shopping come from the campaign only, Paid/Organic Video from the medium
   only, and video hosts in ``social_sites`` (youtube.com) count as social.
 - The lists are the configuration's, not GA4's (e.g. "newsletter" is email).
 - A referrer's source is its host as is ("www.google.co.uk"), not GA4's
   canonical name ("google"); the channel does not depend on it.
"""
from __future__ import annotations

import functools
import re
from typing import Iterable
from urllib.parse import urlsplit

from journeys.core.config import AcquisitionConfig
from journeys.core.events import Event

DIRECT = ("(direct)", "(none)")
NOT_SET = "(not set)"
# GA4's fixed literals that AcquisitionConfig does not (yet) carry.
_DIRECT_MEDIUMS = frozenset({"(none)", NOT_SET})
_CROSS_NETWORK = "cross-network"
_SHOPPING_CAMPAIGN = r"^(.*(([^a-df-z]|^)shop|shopping).*)$"
_VIDEO_MEDIUM = r"^(.*video.*)$"
_ORGANIC_MEDIUM = "organic"
_REFERRAL_MEDIUMS = frozenset({"referral", "app", "link"})


def _clean(value: str | None) -> str | None:
    value = (value or "").strip().lower()
    return value or None


def _values(entries: Iterable[str]) -> frozenset[str]:
    if type(entries) is tuple and all(type(entry) is str for entry in entries):
        return _cached_values(entries)  # the configuration's tuples: the same every journey
    return frozenset(entry.strip().lower() for entry in entries)


@functools.lru_cache(maxsize=64)
def _cached_values(entries: tuple[str, ...]) -> frozenset[str]:
    return frozenset(entry.strip().lower() for entry in entries)


def _entries(entries: Iterable[str]) -> Iterable[str]:
    """A site list's entries lower-cased and stripped, empty ones left out, in their order."""
    if type(entries) is tuple and all(type(entry) is str for entry in entries):
        return _cached_entries(entries)
    return (entry for entry in (raw.strip().lower() for raw in entries) if entry)


@functools.lru_cache(maxsize=64)
def _cached_entries(entries: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(entry for entry in (raw.strip().lower() for raw in entries) if entry)


def _host(url: str | None) -> str | None:
    """The URL's lower-cased host, or None when it has none or is malformed."""
    if not url:
        return None
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return None
    return host.rstrip(".") or None if host else None


def _in_list(value: str, entries: Iterable[str]) -> bool:
    """A host or utm_source matches a site entry: "google." matches a "google." label ("www.google.co.uk")
    and the bare name "google"; "t.co" matches "t.co", "x.t.co" and the bare name "t", never "bat.co"."""
    for entry in _entries(entries):
        if entry.endswith("."):
            if value.startswith(entry) or "." + entry in value or value == entry[:-1]:
                return True
        elif value == entry or value.endswith("." + entry) or ("." not in value and value == entry.rsplit(".", 1)[0]):
            return True
    return False


def traffic_source(page_url: str | None, referrer: str | None, utm_source: str | None, utm_medium: str | None,
                   utm_campaign: str | None, config: AcquisitionConfig) -> tuple[str, str]:
    """(source, medium) as GA4 derives them: utm values win (lower-cased, stripped); else a referrer: a
    search engine host gives (engine host, "organic"), another host gives (host, "referral"); a referrer on
    the page's own host (same host, also ignoring a leading "www.") counts as no referrer; nothing gives
    ("(direct)", "(none)").

    A missing utm half is "(not set)", as in GA4; utm_campaign alone does not replace the referrer. A
    malformed or host-less referrer counts as no referrer.
    """
    source, medium = _clean(utm_source), _clean(utm_medium)
    if source or medium:
        return (source or NOT_SET, medium or NOT_SET)
    host = _host(referrer)
    if host is None:
        return DIRECT
    page_host = _host(page_url)
    if page_host is not None and host.removeprefix("www.") == page_host.removeprefix("www."):
        return DIRECT
    return (host, "organic" if _in_list(host, config.search_engines) else "referral")


def channel_group(source: str, medium: str, campaign: str | None, config: AcquisitionConfig) -> str:
    """GA4 default channel grouping mapped to the contract's names: Direct -> direct; Paid Search ->
    paid_search; Paid Social and Organic Social -> social; Display -> display; Organic Search ->
    organic_search; Email -> email; Affiliates -> affiliate; Referral -> referral; every other GA4 group
    (Cross-network, Paid Shopping, Paid Video, Paid Other, Organic Shopping, Organic Video, Audio, SMS,
    Mobile Push Notifications, Unassigned) -> other.

    Case-insensitive; the rules and their order are in the module docstring.
    """
    source, medium, campaign = _clean(source) or NOT_SET, _clean(medium) or NOT_SET, _clean(campaign) or ""
    is_search = _in_list(source, config.search_engines)
    is_social = _in_list(source, config.social_sites)
    social_medium = medium in _values(config.social_mediums)
    email = _values(config.email_values)
    paid = re.search(config.paid_medium_pattern, medium, re.IGNORECASE) is not None  # re caches patterns
    shopping = re.search(_SHOPPING_CAMPAIGN, campaign) is not None
    rules = (
        (source == DIRECT[0] and medium in _DIRECT_MEDIUMS, "direct"),
        (_CROSS_NETWORK in campaign, "other"),              # Cross-network
        (shopping and paid, "other"),                       # Paid Shopping
        (is_search and paid, "paid_search"),
        ((is_social or social_medium) and paid, "social"),  # Paid Social
        (medium in _values(config.display_mediums), "display"),
        (paid, "other"),                                    # Paid Other
        (shopping, "other"),                                # Organic Shopping
        (is_social or social_medium, "social"),             # Organic Social
        (re.search(_VIDEO_MEDIUM, medium) is not None, "other"),  # Organic Video
        (is_search or medium == _ORGANIC_MEDIUM, "organic_search"),
        (medium in _REFERRAL_MEDIUMS, "referral"),
        (source in email or medium in email, "email"),
        (medium in _values(config.affiliate_mediums), "affiliate"),
    )
    return next((channel for matched, channel in rules if matched), "other")


def acquisition_channel(first_event: Event, first_web_page_view: Event | None, config: AcquisitionConfig) -> str:
    """Contract: looks at the journey's first event: app -> "app"; chat -> "chat"; web -> from the journey's
    first web page view (utm fields and referrer of that event); a web-started journey without any web page
    view -> "direct"."""
    if first_event.channel in ("app", "chat"):
        return first_event.channel
    if first_web_page_view is None:
        return "direct"
    view = first_web_page_view
    source, medium = traffic_source(view.page_url, view.referrer, view.utm_source, view.utm_medium,
                                    view.utm_campaign, config)
    return channel_group(source, medium, view.utm_campaign, config)
