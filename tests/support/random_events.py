"""A seeded random generator of contract events, JSON lines, made to hit the contract's edges.

Unlike the synthetic shop (journeys.generators.synthetic), nothing here is a
plausible customer: visitors jump between web, app and chat, log in and out
of user ids (a device may move to another customer), and times sit on the
rules' boundaries: gaps of exactly 30 minutes and a millisecond either side,
clicks 999 and 1000 ms apart and 29 or 30 px away, searches 59 and 60 s
apart, waits of 60 s and a bit more, journeys that reach 24 hours. Some
events are sent twice (exact copies, so "first wins" cannot depend on the
arrival order) and some lines are bad input.
"""
from __future__ import annotations

import json
import random
from datetime import datetime, timezone

T0 = 1_767_571_200_000  # 2026-01-05T00:00:00Z
SECOND, MINUTE, HOUR = 1_000, 60_000, 3_600_000
GAP = 30 * MINUTE
PAGES = ("/", "/products/1", "/products/2", "/cart", "/checkout", "/help", "/help/returns", "/search",
         "/account", "/contact", "/offers")
SCREENS = ("home", "product_detail", "cart", "checkout", "orders", "help", "search_results")
REFERRERS = (None, "https://www.google.com/", "https://t.co/x", "https://news.example.org/a",
             "https://shop.example.com/")
UTM = (None, ("google", "cpc"), ("newsletter", "email"), ("facebook", "paid_social"), ("partner", "affiliate"))
INTENTS = ("product_question", "order_status", "agent_request", "billing", "returns", None)
STEPS_MS = (1, 500, 999, 1_000, 5 * SECOND, 9_999, 10 * SECOND, 59 * SECOND, 60 * SECOND, 61 * SECOND,
            5 * MINUTE, GAP - 1, GAP, GAP + 1, 2 * HOUR)
BAD_LINES = ('{"event_id": "bad", "channel": ', "not json at all", '{"event_type": "page_view"}',
             '{"event_id": "old-%d", "event_type": "page_view", "channel": "web", "event_time": 1, '
             '"anonymous_id": "x"}', "[1, 2, 3]")


class _Visitor:
    def __init__(self, rng: random.Random, index: int):
        self.rng = rng
        self.devices = {"web": f"ck-{index}", "app": f"dev-{index}", "chat": f"chat-{index}"}
        self.user = f"user-{index}"

    def user_id(self) -> str | None:
        roll = self.rng.random()
        if roll < 0.15:
            return self.user
        if roll < 0.18:  # a shared device: someone else logs in on it
            return f"user-{self.rng.randrange(3)}"
        return None


def _web(rng: random.Random, event: dict) -> None:
    kind = rng.choices(("page_view", "page_ping", "click", "form_start", "form_submit", "form_error", "search",
                        "error", "login", "purchase"), weights=(30, 12, 18, 4, 3, 2, 6, 2, 3, 2))[0]
    page = rng.choice(PAGES)
    event.update(event_type=kind, page_url=f"https://shop.example.com{page}?q={rng.randrange(9)}")
    if kind == "page_view":
        source = rng.choice(UTM)
        event.update(page_title=page.strip("/") or "home", referrer=rng.choice(REFERRERS))
        if source:
            event.update(utm_source=source[0], utm_medium=source[1], utm_campaign="c")
    elif kind == "click":
        event.update(element_id=rng.choice(("buy", "menu", None)), x=rng.choice((10, 39, 40, 70, -1)),
                     y=rng.choice((10, 20, 39)))
    elif kind in ("form_start", "form_submit", "form_error"):
        event.update(form_id=rng.choice(("checkout_form", "contact_form")))
    elif kind == "search":
        event.update(search_query=rng.choice(("shoes", "jacket", "x")), search_results=rng.choice((0, 3, 12)))
    elif kind == "error":
        event.update(error_type="http", error_code=rng.choice(("404", "500")))
    elif kind == "purchase":
        event.update(order_id=f"o-{rng.randrange(10**6)}", revenue=rng.choice((9.99, 120.0)))


def _app(rng: random.Random, event: dict) -> None:
    kind = rng.choices(("app_open", "screen_view", "tap", "app_background", "app_foreground", "search",
                        "error", "login", "purchase", "form_start"), weights=(3, 30, 18, 4, 4, 4, 2, 2, 2, 2))[0]
    event.update(event_type=kind, app_version="5.2.0", os="iOS 18.2")
    if kind in ("screen_view", "tap", "error", "search"):
        event["screen_name"] = rng.choice(SCREENS)
    if kind == "tap":
        event.update(element_id=rng.choice(("add", None)), x=rng.choice((100, 129, 130)), y=200)
    if kind == "search":
        event.update(search_query="bag", search_results=rng.choice((0, 5)))
    if kind == "error":
        event.update(error_type="crash", error_code="E1")
    if kind == "form_start":
        event["form_id"] = "address_form"
    if kind == "purchase":
        event.update(order_id=f"o-{rng.randrange(10**6)}", revenue=30.0)


def _chat(rng: random.Random, event: dict, conversation: str) -> None:
    kind = rng.choices(("conversation_start", "message", "handoff_requested", "agent_joined", "conversation_end",
                        "csat"), weights=(4, 20, 3, 3, 3, 2))[0]
    event.update(event_type=kind, conversation_id=conversation)
    if kind == "message":
        event.update(sender=rng.choice(("customer", "bot", "agent")), intent=rng.choice(INTENTS),
                     message_text=rng.choice(("hi", "my email is a.b@example.com", "call +44 20 7946 0123")))
    elif kind == "conversation_end":
        event["resolution"] = rng.choice(("resolved", "unresolved", "abandoned", None))
    elif kind == "csat":
        event["csat_score"] = rng.randint(1, 5)


def random_events(n: int, seed: int) -> list[str]:
    """``n`` events (plus duplicates and bad lines) as JSON lines, in event-time order per visitor."""
    rng = random.Random(seed)
    visitors = [_Visitor(rng, i) for i in range(max(2, n // 40))]
    clocks = {id(v): T0 + rng.randrange(20 * HOUR) for v in visitors}
    conversations = {id(v): 0 for v in visitors}
    lines = []
    for i in range(n):
        visitor = rng.choice(visitors)
        clocks[id(visitor)] += rng.choice(STEPS_MS)
        channel = rng.choices(("web", "app", "chat"), weights=(6, 3, 2))[0]
        event = {"event_id": f"r{seed}-{i}", "channel": channel, "event_time": clocks[id(visitor)],
                 "anonymous_id": visitor.devices[channel], "user_id": visitor.user_id(), "properties": {}}
        if channel == "web":
            _web(rng, event)
        elif channel == "app":
            _app(rng, event)
        else:
            if rng.random() < 0.2:
                conversations[id(visitor)] += 1
            _chat(rng, event, f"conv-{visitor.devices['chat']}-{conversations[id(visitor)]}")
        if rng.random() < 0.3:  # ISO strings as well as epoch ms
            event["event_time"] = datetime.fromtimestamp(event["event_time"] / 1000, timezone.utc).isoformat(
                timespec="milliseconds")
        line = json.dumps(event)
        lines.append(line)
        if rng.random() < 0.02:
            lines.append(line)  # an exact duplicate
        if rng.random() < 0.01:
            lines.append(rng.choice(BAD_LINES).replace("%d", str(i)))
        if i % 20 == 0:  # one visitor whose views are exactly the gap apart: its journey reaches the 24-hour cap
            lines.append(json.dumps({"event_id": f"m{seed}-{i}", "event_type": "page_view", "channel": "web",
                                     "event_time": T0 + (i // 20) * GAP, "anonymous_id": "ck-marathon",
                                     "page_url": f"https://shop.example.com{rng.choice(PAGES)}"}))
    return lines
