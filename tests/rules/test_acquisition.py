"""Acquisition channel: GA4's default channel grouping, worked out by hand.

Each expectation names the GA4 rule that decides it (journeys/acquisition.py
lists the order); "before" notes a precedence the case pins down.
"""
from __future__ import annotations

import dataclasses

import pytest

from journeys.core.config import AcquisitionConfig
from journeys.core.events import Event
from journeys.rules.acquisition import (
    acquisition_channel,
    channel_group,
    traffic_source,
)

CONFIG = AcquisitionConfig()
PAGE = "https://www.shop.example/products?id=7"

# (page_url, referrer, utm_source, utm_medium, utm_campaign, expected channel, why)
CASES = [
    # Direct
    (PAGE, None, None, None, None, "direct", "nothing at all"),
    (PAGE, "", "", "  ", None, "direct", "blank values are absent"),
    (PAGE, "https://www.shop.example/cart", None, None, None, "direct", "self-referral, same host"),
    (PAGE, "https://shop.example/", None, None, None, "direct", "self-referral, bare host vs www page"),
    ("https://shop.example/", "http://WWW.Shop.Example/a", None, None, None, "direct", "self-referral, www referrer"),
    # Organic Search: source in search list OR medium organic
    (PAGE, "https://www.google.co.uk/", None, None, None, "organic_search", "google. label"),
    (PAGE, "https://www.bing.com/search?q=shoes", None, None, None, "organic_search", "bing.com suffix"),
    (PAGE, "https://duckduckgo.com/", None, None, None, "organic_search", "duckduckgo.com"),
    (PAGE, None, "some-site", "organic", None, "organic_search", "medium exactly organic"),
    (PAGE, "android-app://com.google.android.googlequicksearchbox/", None, None, None, "organic_search",
     "Google app referrer has a google. label"),
    (PAGE, "https://notgoogle.com/", None, None, None, "referral", "notgoogle.com has no google. label"),
    # Paid Search: source in search list AND paid medium
    (PAGE, None, "google", "cpc", None, "paid_search", "google + cpc"),
    (PAGE, None, "bing", "ppc", None, "paid_search", "bare name bing matches bing.com"),
    (PAGE, None, "google", "paid", None, "paid_search", "paid.* medium"),
    (PAGE, None, "yahoo", "retargeting", None, "paid_search", "retargeting is paid"),
    (PAGE, None, "google", "cpm", None, "paid_search", "Paid Search before Display"),
    # Social (Paid Social and Organic Social)
    (PAGE, "https://m.facebook.com/", None, None, None, "social", "subdomain of facebook.com"),
    (PAGE, "https://t.co/abc", None, None, None, "social", "t.co exactly"),
    (PAGE, "https://bat.co/", None, None, None, "referral", "bat.co is not t.co"),
    (PAGE, None, "partner", "social", None, "social", "medium in social mediums"),
    (PAGE, None, "facebook", "paid_social", None, "social", "Paid Social"),
    (PAGE, None, "instagram", "cpc", None, "social", "Paid Social: instagram + cpc"),
    (PAGE, None, "facebook", "cpm", None, "social", "Paid Social before Display"),
    (PAGE, None, "linkedin", "email", None, "social", "Organic Social (source) before Email"),
    (PAGE, None, "acme-network", "paid_social", None, "social", "deviation: GA4 says Paid Other"),
    (PAGE, None, "google", "paid_social", None, "paid_search", "Paid Search before Paid Social"),
    # Email: source or medium in email values
    (PAGE, None, "mailchimp", "email", None, "email", "medium email"),
    (PAGE, None, "newsletter", None, None, "email", "source newsletter, medium (not set)"),
    (PAGE, None, "crm", "e-mail", None, "email", "medium e-mail"),
    (PAGE, None, "email", "blast", None, "email", "source email"),
    # Display
    (PAGE, None, "adnet", "display", None, "display", "medium display"),
    (PAGE, None, "adnet", "banner", None, "display", "medium banner"),
    (PAGE, None, "adnet", "cpm", None, "display", "Display before Paid Other (cpm also matches .*cp.*)"),
    # Affiliates
    (PAGE, None, "partner", "affiliate", None, "affiliate", "medium affiliate"),
    (PAGE, None, "partner", "affiliates", None, "affiliate", "configured plural"),
    # Referral
    (PAGE, "https://news.ycombinator.com/item?id=1", None, None, None, "referral", "another site"),
    (PAGE, None, "blog", "referral", None, "referral", "medium referral"),
    (PAGE, None, "blog", "link", None, "referral", "medium link"),
    (PAGE, None, "email", "referral", None, "referral", "Referral before Email"),
    # Other
    (PAGE, None, "twilio", "sms", None, "other", "SMS"),
    (PAGE, None, "podcast", "audio", None, "other", "Audio"),
    (PAGE, None, "app", "push", None, "other", "Mobile Push Notifications"),
    (PAGE, None, "some-network", "cpc", None, "other", "Paid Other"),
    (PAGE, None, None, "cpc", None, "other", "(not set) source + cpc: Paid Other"),
    (PAGE, None, "foo", None, None, "other", "Unassigned: foo / (not set)"),
    (PAGE, None, "google", "cpc", "Spring-Cross-Network", "other", "Cross-network before Paid Search"),
    (PAGE, None, "google", "cpc", "summer_shopping", "other", "Paid Shopping before Paid Search"),
    (PAGE, None, "facebook", "social", "shop-now", "other", "Organic Shopping before Organic Social"),
    (PAGE, None, "google", "cpc", "workshop", "paid_search", "k before shop: not a shopping campaign"),
    (PAGE, None, "partner", "video", None, "other", "Organic Video"),
    (PAGE, None, "google", "video", None, "other", "Organic Video before Organic Search"),
    # Case and whitespace
    (PAGE, None, "Google", "CPC", None, "paid_search", "upper case utm"),
    (PAGE, None, "Mailchimp", " Email ", None, "email", "padded medium"),
    (PAGE, "HTTPS://WWW.GOOGLE.COM/", None, None, None, "organic_search", "upper-case referrer"),
    (PAGE, None, "FaceBook.com", "Paid-Social", None, "social", "mixed case host source"),
    (PAGE, None, "x", "social-media", None, "social", "bare name x matches x.com"),
    # utm wins; campaign alone does not
    (PAGE, "https://www.google.com/", "newsletter", "email", None, "email", "utm beats the referrer"),
    (PAGE, "https://www.google.com/", None, None, "spring", "organic_search", "campaign alone keeps referrer"),
    # Malformed URLs: no crash, no referrer
    (PAGE, "http://[::1", None, None, None, "direct", "invalid IPv6 referrer"),
    (PAGE, "not a url", None, None, None, "direct", "host-less referrer"),
    ("http://[bad", "https://www.google.com/", None, None, None, "organic_search", "malformed page URL"),
    (None, "https://www.google.com/", None, None, None, "organic_search", "no page URL"),
]


@pytest.mark.parametrize("page, referrer, source, medium, campaign, expected, why", CASES,
                         ids=[case[-1] for case in CASES])
def test_channel_table(page, referrer, source, medium, campaign, expected, why):
    src, med = traffic_source(page, referrer, source, medium, campaign, CONFIG)
    assert channel_group(src, med, campaign, CONFIG) == expected


@pytest.mark.parametrize("page, referrer, source, medium, expected", [
    (PAGE, None, None, None, ("(direct)", "(none)")),
    (PAGE, "https://shop.example/x", None, None, ("(direct)", "(none)")),
    (PAGE, "https://www.google.co.uk/search", None, None, ("www.google.co.uk", "organic")),
    (PAGE, "https://l.facebook.com/", None, None, ("l.facebook.com", "referral")),
    (PAGE, "https://blog.example:8443/post", None, None, ("blog.example", "referral")),
    (PAGE, "https://www.google.com/", " Google ", "CPC", ("google", "cpc")),
    (PAGE, None, "newsletter", None, ("newsletter", "(not set)")),
    (PAGE, None, None, "cpc", ("(not set)", "cpc")),
    (PAGE, "http://[::1", None, None, ("(direct)", "(none)")),
])
def test_traffic_source(page, referrer, source, medium, expected):
    assert traffic_source(page, referrer, source, medium, None, CONFIG) == expected


def test_direct_needs_both_halves():
    assert channel_group("(direct)", "(none)", None, CONFIG) == "direct"
    assert channel_group("(direct)", "(not set)", None, CONFIG) == "direct"
    assert channel_group("(direct)", "email", None, CONFIG) == "email"


def test_lists_come_from_config():
    config = dataclasses.replace(CONFIG, search_engines=("search.example",), email_values=("mail",))
    assert channel_group("www.google.com", "referral", None, config) == "referral"
    assert channel_group("search.example", "referral", None, config) == "organic_search"
    assert channel_group("search.example", "cpc", None, config) == "paid_search"
    assert channel_group("crm", "mail", None, config) == "email"
    assert channel_group("crm", "email", None, config) == "other"  # Unassigned once "email" is not listed
    strict = dataclasses.replace(CONFIG, paid_medium_pattern=r"^cpc$")
    assert channel_group("google", "paid", None, strict) == "organic_search"  # not paid: source is a search engine
    assert channel_group("acme", "paid", None, strict) == "other"  # not paid, not listed: Unassigned
    assert channel_group("acme", "cpc", None, strict) == "other"  # Paid Other


def _event(channel, event_type, **fields):
    return Event(event_id="e1", event_type=event_type, channel=channel, event_time=1_700_000_000_000,
                 anonymous_id="a1", **fields)


def test_acquisition_channel_by_first_event():
    view = _event("web", "page_view", page_url=PAGE, utm_source="google", utm_medium="cpc")
    assert acquisition_channel(_event("app", "app_open"), view, CONFIG) == "app"
    assert acquisition_channel(_event("chat", "conversation_start", conversation_id="c1"), view, CONFIG) == "chat"
    assert acquisition_channel(view, view, CONFIG) == "paid_search"
    assert acquisition_channel(_event("web", "click"), view, CONFIG) == "paid_search"
    assert acquisition_channel(_event("web", "click"), None, CONFIG) == "direct"


def test_acquisition_channel_uses_the_page_view_referrer_and_campaign():
    referred = _event("web", "page_view", page_url=PAGE, referrer="https://www.shop.example/")
    assert acquisition_channel(referred, referred, CONFIG) == "direct"
    social = _event("web", "page_view", page_url=PAGE, referrer="https://www.instagram.com/")
    assert acquisition_channel(social, social, CONFIG) == "social"
    pmax = _event("web", "page_view", page_url=PAGE, utm_source="google", utm_medium="cpc",
                  utm_campaign="pmax-cross-network")
    assert acquisition_channel(pmax, pmax, CONFIG) == "other"
