"""Deterministic synthetic customer journeys across web, app and chat.

Models the customers of a small online shop (https://shop.example.com). Each
customer owns one to three devices: a web cookie, an app install and a chat
visitor id. Some have an account and sign in (web/app ``login``; chat identity
comes from the signed-in widget or a bot verification), which links those
devices to one ``user_id``; most stay anonymous. A customer has one or more
journeys over the day, separated by more than 30 minutes of inactivity.

A web or app session has an intent (browse, purchase, account, support), an
acquisition source on the first web page view, page pings every heartbeat
while reading, and, at a few per cent each, every friction pattern of contract
section 2. Support sessions may continue in chat (bot, handoff, agent, CSAT,
personal data in messages). Delivery is imperfect like a real tracker
pipeline: a few events arrive seconds late and some are re-sent as exact
duplicates. Every rate is in :class:`SyntheticProfile`; the only source of
randomness is ``random.Random(seed)``, so a seed always gives the same events.
"""
from __future__ import annotations

import json
import math
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable
from urllib.parse import quote_plus, urlencode

DEFAULT_START = datetime(2026, 1, 5, tzinfo=timezone.utc)
HOST = "https://shop.example.com"

_COMMON = ("event_id", "event_type", "channel", "event_time", "anonymous_id", "user_id", "properties")
_ACTIONS = ("element_id", "x", "y", "form_id", "search_query", "search_results",
            "error_type", "error_code", "order_id", "revenue")
FIELDS = {  # must equal the .avsc field lists in schemas/ (tests check it)
    "web": _COMMON + ("page_url", "page_title", "referrer", "utm_source", "utm_medium", "utm_campaign") + _ACTIONS,
    "app": _COMMON + ("screen_name", "app_version", "os") + _ACTIONS,
    "chat": _COMMON + ("conversation_id", "sender", "message_text", "intent", "resolution", "csat_score"),
}
_BLANK = {channel: dict.fromkeys(names) for channel, names in FIELDS.items()}


@dataclass(frozen=True)
class SyntheticProfile:
    """Rates and shapes of the synthetic population.

    Friction rates are per web/app session ("a few per cent of journeys
    each"); chat rates are per conversation. Ranges are (low, high) seconds.
    """
    # Who the customers are: device sets with weights, accounts and sign-in.
    device_mix: tuple = ((("web",), 0.40), (("app",), 0.12), (("web", "chat"), 0.18),
                         (("web", "app"), 0.10), (("app", "chat"), 0.06), (("web", "app", "chat"), 0.14))
    account_rate: float = 0.45          # customers with an account at all
    app_signed_in_rate: float = 0.4     # account holders whose app stayed signed in from before
    login_rate: float = 0.4             # per session on a signed-out device of an account holder
    chat_verify_rate: float = 0.4       # anonymous chats of account holders the bot verifies
    # Journeys: how many, how far apart, why and where from.
    another_journey_rate: float = 0.3   # geometric: chance of each further journey
    journey_gap_s: tuple = (31 * 60, 10 * 3600)  # > 30 min so it splits; < 24 h so chats repeat
    intent_mix: tuple = (("browse", 0.50), ("purchase", 0.22), ("account", 0.13), ("support", 0.15))
    acquisition_mix: tuple = (("direct", 0.30), ("organic", 0.25), ("paid_search", 0.12), ("social", 0.10),
                              ("email", 0.08), ("referral", 0.08), ("display", 0.04), ("affiliate", 0.03))
    bounce_rate: float = 0.3            # single short page, never engaged
    browse_pages_mean: float = 2.0      # extra pages beyond landing and the intent's own pages
    click_rate: float = 0.3             # pages with an in-page click besides navigation
    nav_click_rate: float = 0.8         # page changes caused by a tracked click
    checkout_completion_rate: float = 0.7
    revenue_range: tuple = (9.0, 400.0)
    # Timing on a page: log-normal dwell, heartbeat pings, app backgrounding.
    dwell_median_s: float = 25.0
    dwell_sigma: float = 0.8
    dwell_range_s: tuple = (4.0, 300.0)
    short_dwell_s: tuple = (1.5, 7.0)   # bounces and the B of a quick back (< 10 s with nav latency)
    nav_latency_s: tuple = (0.3, 1.5)   # click or search to the next view
    heartbeat_s: int = 10
    form_fill_s: tuple = (10.0, 60.0)
    background_rate: float = 0.25       # app sessions sent to the background once
    background_s: tuple = (20.0, 900.0)
    foreground_rate: float = 0.85       # the app_foreground is not always tracked
    # Friction per web/app session.
    rage_click_rate: float = 0.04
    rage_clicks: tuple = (3, 6)         # clicks per burst, each on the same element
    rage_gap_s: tuple = (0.12, 0.7)     # < 1 s apart
    error_rate: float = 0.04
    form_error_rate: float = 0.04
    form_abandon_rate: float = 0.02     # on top of abandoned checkouts
    quick_back_rate: float = 0.05
    page_loop_rate: float = 0.03
    search_no_results_rate: float = 0.05
    search_refine_rate: float = 0.04
    search_refine_gap_s: tuple = (4.0, 15.0)  # < 60 s apart
    search_hits: tuple = (1, 240)       # results of a successful search
    # Chat.
    chat_rate: float = 0.3              # journeys with a chat, for customers with a chat id
    chat_only_share: float = 0.3        # of those, chats not preceded by web/app in the journey
    repeat_contact_rate: float = 0.35   # a chat journey followed by another chat journey
    reply_s: tuple = (3.0, 40.0)
    escalation_rate: float = 0.35
    agent_wait_s: tuple = (5.0, 55.0)
    long_wait_rate: float = 0.3         # of handoffs, agent joins after more than 60 s
    long_wait_s: tuple = (61.0, 600.0)
    queue_abandon_rate: float = 0.1     # of handoffs, the customer leaves before an agent joins
    unresolved_rate: float = 0.15
    csat_rate: float = 0.4
    csat_weights_resolved: tuple = (2, 3, 10, 35, 50)   # relative odds of scores 1..5
    csat_weights_unresolved: tuple = (30, 30, 20, 12, 8)
    bot_turns: tuple = (1, 2)           # bot/customer exchanges before any handoff
    agent_turns: tuple = (1, 3)
    pii_rate: float = 0.15              # customer messages carrying an email, phone or card number
    # Delivery.
    late_rate: float = 0.02
    late_s: tuple = (1.0, 8.0)
    duplicate_rate: float = 0.005
    duplicate_delay_s: tuple = (1.0, 300.0)


# Page kind: (web path, web title, app screen, element a frustrated user hammers, form on it).
_PAGES = {
    "home": ("/", "Example Shop", "home", "hero_banner", "newsletter_form"),
    "category": ("/category/{}", "{} | Example Shop", "category", "filter_apply", None),
    "product": ("/products/{}", "Product {} | Example Shop", "product_detail", "add_to_cart", None),
    "search": ("/search", "Search results", "search_results", "result_card", None),
    "offers": ("/offers", "Offers", "offers", "promo_code_apply", None),
    "cart": ("/cart", "Your basket", "cart", "checkout_button", None),
    "checkout": ("/checkout", "Checkout", "checkout", "pay_now", "checkout_form"),
    "confirmation": ("/checkout/confirmation", "Order confirmed", "order_confirmation", "continue", None),
    "login": ("/login", "Sign in", "login", "sign_in", "login_form"),
    "account": ("/account", "Your account", "account", "save_address", "address_form"),
    "orders": ("/account/orders", "Your orders", "orders", "track_order", None),
    "help": ("/help", "Help centre", "help", "help_search", None),
    "article": ("/help/{}", "Help: {}", "help_article", "was_this_helpful", None),
    "contact": ("/contact", "Contact us", "contact", "chat_launcher", "contact_form"),
}
_BROWSE = ("home", "category", "category", "product", "product", "product", "offers")
_ARGS = {"category": ("shoes", "jackets", "bags", "accessories", "sale"), "product": range(1, 401),
         "article": ("returns", "delivery", "payment-methods", "track-order", "reset-password")}
_QUERIES = ("running shoes", "rain jacket", "leather bag", "gift card", "wool socks", "trail shoes", "backpack")
_REFINEMENTS = ("men", "size 9", "black")
_NO_HIT_QUERIES = ("blu snekers xl", "waterprof jaket", "ebike charger 48v", "gfit crad")
_RAGE_JITTER_PX = 8  # a frustrated user hits roughly the same spot
_VIEWPORT = {"web": (1440, 900), "app": (390, 844)}
_ERRORS = {"web": (("http", "404"), ("http", "500"), ("http", "503"), ("javascript", "TypeError"),
                   ("network", "ERR_CONNECTION_RESET")),
           "app": (("crash", "SIGABRT"), ("network", "timeout"), ("api", "HTTP 503"), ("api", "HTTP 500"))}
_FORM_ERRORS = ("required_field", "invalid_email", "invalid_postcode", "card_declined", "wrong_password")
_ACQUISITION = {  # source: (referrers, utm (source, medium, campaign) choices; None = no utm)
    "direct": ((None,), (None,)),
    "organic": (("https://www.google.com/", "https://www.bing.com/", "https://duckduckgo.com/"), (None,)),
    "paid_search": (("https://www.google.com/", "https://www.bing.com/"),
                    (("google", "cpc", "brand_search"), ("bing", "cpc", "generic_shoes"))),
    "social": (("https://www.facebook.com/", "https://l.instagram.com/", "https://t.co/"),
               (None, ("facebook", "social", "winter_looks"), ("instagram", "paid_social", "new_season"))),
    "email": ((None,), (("newsletter", "email", "weekly_2026_01"), ("crm", "email", "abandoned_cart"))),
    "referral": (("https://www.techradar.com/best/running-shoes", "https://forum.example.org/t/4411"), (None,)),
    "display": ((None, "https://googleads.g.doubleclick.net/"),
                (("doubleclick", "display", "retargeting"), ("criteo", "cpm", "retargeting"))),
    "affiliate": (("https://www.vouchercodes.example/",), (("awin", "affiliate", "spring_voucher"),)),
}
_OS = ("iOS 17.5", "iOS 18.2", "Android 14", "Android 15")
_APP_VERSIONS = ("5.2.0", "5.3.1", "5.4.0")
_INTENTS = {  # chat intent: opening customer messages
    "order_status": ("Where is my order {order}?", "My parcel still hasn't arrived"),
    "returns": ("How do I return a jacket?", "I want to send back order {order}"),
    "billing": ("I was charged twice for {order}", "When will my refund arrive?"),
    "account_access": ("I can't log in to my account", "The password reset email never came"),
    "delivery_change": ("Can I change the delivery address for {order}?", "Can you deliver on Saturday?"),
    "product_question": ("Is the rain jacket waterproof?", "Do the trail shoes run small?"),
}
_PII = ("my email is {email}", "you can call me on {phone}", "it was paid with card {card}")
_BOT = ("I can help with that.", "Let me check that for you.", f"This article may help: {HOST}/help/returns",
        "Did that answer your question?")
_CUSTOMER = ("ok thanks", "that doesn't help", "it says something went wrong", "yes", "still waiting")
_AGENT = ("Thanks for waiting, let me look into it.", "I've updated that for you.",
          "I've raised a ticket for this.", "Is there anything else I can help with?")
_PHONE_FORMATS = ("+44 20 7946 0###", "+1-202-555-01##", "+44 7700 900###", "+33 1 99 00 ## ##",
                  "+49 30 23125 ###")
_NAMES = ("alex", "sam", "maria", "li", "omar", "anna", "john", "priya")


@dataclass
class _Device:
    channel: str
    anonymous_id: str
    user_id: str | None = None
    url: str | None = None        # web: current page
    title: str | None = None
    screen: str | None = None     # app: current screen
    next_ping: int | None = None  # web: timeline ms of the next heartbeat; None when not reading
    os: str | None = None
    app_version: str | None = None


class _Simulator:
    """Builds one customer's timeline at a time, in milliseconds from 0."""

    def __init__(self, rng: random.Random, profile: SyntheticProfile):
        self.r, self.p = rng, profile
        self.t, self.events, self.user_id, self.devices = 0, [], None, {}

    # -- primitives ---------------------------------------------------------
    def ms(self, span: tuple) -> int:
        return int(self.r.uniform(*span) * 1000)

    def uid(self) -> uuid.UUID:
        return uuid.UUID(int=self.r.getrandbits(128), version=4)

    def pick(self, weighted: tuple):
        return self.r.choices([k for k, _ in weighted], [w for _, w in weighted])[0]

    def emit(self, dev: _Device, event_type: str, **fields) -> None:
        ev = dict(_BLANK[dev.channel])
        ev.update(event_id=str(self.uid()), event_type=event_type, channel=dev.channel, event_time=self.t,
                  anonymous_id=dev.anonymous_id, user_id=dev.user_id, properties={})
        if dev.channel == "web":  # like Snowplow, every web event carries its page
            ev["page_url"], ev["page_title"] = dev.url, dev.title
        elif dev.channel == "app":
            ev["screen_name"], ev["os"], ev["app_version"] = dev.screen, dev.os, dev.app_version
        ev.update(fields)
        self.events.append(ev)

    def wait(self, dev: _Device, seconds: float) -> None:
        """Let time pass on the current page, sending heartbeats while reading."""
        end = self.t + int(seconds * 1000)
        while dev.next_ping is not None and dev.next_ping <= end:
            self.t = dev.next_ping
            self.emit(dev, "page_ping")
            dev.next_ping += self.p.heartbeat_s * 1000
        self.t = end

    # -- customers and journeys --------------------------------------------
    def customer(self, index: int, span_ms: int) -> list[dict]:
        r, p = self.r, self.p
        self.devices, self.t, self.events = {}, 0, []
        for channel in self.pick(p.device_mix):  # id styles: Snowplow cookie, iOS/Android install id, chat widget
            self.devices[channel] = (
                _Device("web", str(self.uid())) if channel == "web" else
                _Device("app", str(self.uid()).upper(), os=r.choice(_OS), app_version=r.choice(_APP_VERSIONS))
                if channel == "app" else _Device("chat", f"chat-{r.getrandbits(64):016x}"))
        self.user_id = f"cust_{index:06d}" if r.random() < p.account_rate else None
        if self.user_id and "app" in self.devices and r.random() < p.app_signed_in_rate:
            self.devices["app"].user_id = self.user_id
        had_chat = False
        while True:
            mark = len(self.events)
            had_chat = self.journey(had_chat)
            if self.t >= span_ms and mark:  # keep the day's timeline inside the span
                del self.events[mark:]
                break
            if r.random() >= p.another_journey_rate:
                break
            self.t += self.ms(p.journey_gap_s)
        return self.events

    def journey(self, previous_had_chat: bool) -> bool:
        r, p = self.r, self.p
        chat = self.devices.get("chat")
        digital = [d for c, d in self.devices.items() if c != "chat"]
        wants_chat = chat is not None and (not digital or r.random() < p.chat_rate or (
            previous_had_chat and r.random() < p.repeat_contact_rate))
        if wants_chat and r.random() < p.chat_only_share:
            digital = []
        if digital:
            dev = r.choice(digital)
            self.session(dev, "support" if wants_chat else self.pick(p.intent_mix))
            if wants_chat and dev.user_id and chat.user_id is None:  # the widget knows who is signed in
                chat.user_id = dev.user_id
        if wants_chat:
            self.t += self.ms(p.nav_latency_s)
            self.conversation(chat, "contact_page" if digital else "direct")
        return wants_chat

    # -- web and app sessions ------------------------------------------------
    def page(self, kind: str) -> tuple:
        args = _ARGS.get(kind)
        return kind, (self.r.choice(args) if args else None)

    def other_page(self, page: tuple) -> tuple:
        while (other := self.page(self.r.choice(_BROWSE))) == page:
            pass
        return other

    def session(self, dev: _Device, intent: str) -> None:
        r, p = self.r, self.p
        if intent == "account" and not self.user_id:
            intent = "browse"
        if dev.channel == "app":
            dev.screen = None
            self.emit(dev, "app_open", properties={"network": r.choice(("wifi", "cellular"))})
            self.t += self.ms(p.nav_latency_s)
        if intent != "support" and r.random() < p.bounce_rate:
            steps = [(self.landing(dev, intent), "bounce")]
        else:
            steps = self.plan(dev, intent)
        backgrounded = dev.channel == "app" and r.random() < p.background_rate
        background_at = r.randrange(1, len(steps) + 1) if backgrounded else 0  # len(steps): only at the end
        acquisition = self.acquisition() if dev.channel == "web" else None
        for i, (page, action) in enumerate(steps):
            if i and i == background_at:
                self.background(dev)
            self.step(dev, page, action, i == 0, acquisition if i == 0 else None)
        if dev.channel == "app":
            self.emit(dev, "app_background")
        dev.next_ping = None

    def landing(self, dev: _Device, intent: str) -> tuple:
        if dev.channel == "app":
            return "home", None
        kinds = {"purchase": ("product", "offers", "home"), "support": ("help", "article", "home"),
                 "account": ("home", "account")}.get(intent, _BROWSE)
        return self.page(self.r.choice(kinds))

    def plan(self, dev: _Device, intent: str) -> list[tuple]:
        r, p = self.r, self.p
        steps = [(self.landing(dev, intent), None)]
        for _ in range(int(r.expovariate(1 / p.browse_pages_mean))):
            steps.append((self.page(r.choice(_BROWSE)), "click" if r.random() < p.click_rate else None))
        if self.user_id and dev.user_id is None and (intent == "account" or r.random() < p.login_rate):
            steps.insert(1, (("login", None), "login"))
        self.add_friction(steps)
        if intent == "purchase":
            done = r.random() < p.checkout_completion_rate
            steps += [(self.page("product"), "add_to_cart"), (("cart", None), None),
                      (("checkout", None), "purchase" if done else "form_abandon")]
            steps += [(("confirmation", None), None)] if done else []
        elif intent == "account":
            steps += [(("account", None), "form"), (("orders", None), "click")]
        elif intent == "support":
            steps += [(("help", None), None), (self.page("article"), None), (("contact", None), "click")]
        return steps

    def add_friction(self, steps: list) -> None:
        r, p = self.r, self.p
        def insert(*new):  # anywhere after the landing page
            at = r.randint(1, len(steps))
            steps[at:at] = new
        def after_some_page(make):
            at = r.randrange(len(steps))
            steps[at + 1:at + 1] = make(steps[at][0])
        if r.random() < p.rage_click_rate:
            insert((self.page(r.choice(("product", "cart", "checkout", "offers"))), "rage"))
        if r.random() < p.error_rate:
            insert((self.page(r.choice(_BROWSE)), "error"))
        if r.random() < p.form_error_rate:
            insert((self.page(r.choice(("contact", "account", "checkout"))), "form_error"))
        if r.random() < p.form_abandon_rate:
            insert((self.page(r.choice(("contact", "account", "home"))), "form_abandon"))
        if r.random() < p.search_no_results_rate:
            insert((("search", r.choice(_NO_HIT_QUERIES)), "search_none"))
        if r.random() < p.search_refine_rate:
            insert((("search", r.choice(_QUERIES)), "refine"))
        elif r.random() < p.click_rate:
            insert((("search", r.choice(_QUERIES)), "search"))
        if r.random() < p.quick_back_rate:
            after_some_page(lambda a: [(self.other_page(a), "quick"), (a, None)])
        if r.random() < p.page_loop_rate:
            after_some_page(lambda a: [(self.other_page(a), None), (a, None),
                                       (self.other_page(a), None), (a, None)])

    def acquisition(self) -> tuple:
        referrers, utms = _ACQUISITION[self.pick(self.p.acquisition_mix)]
        return self.r.choice(referrers), self.r.choice(utms)

    def step(self, dev: _Device, page: tuple, action: str | None, first: bool, acquisition: tuple | None) -> None:
        r, p = self.r, self.p
        if action in ("search", "search_none", "refine"):
            hits = 0 if action == "search_none" else r.randint(*p.search_hits)
            self.emit(dev, "search", search_query=page[1], search_results=hits)
            self.t += self.ms(p.nav_latency_s)
        elif not first and r.random() < p.nav_click_rate:
            self.tap(dev, f"nav_{page[0]}")
            self.t += self.ms(p.nav_latency_s)
        self.view(dev, page, acquisition)
        short = action in ("bounce", "quick")
        dwell = r.uniform(*p.short_dwell_s) if short else self.dwell()
        before = dwell * r.random()
        self.wait(dev, before)
        element, form = _PAGES[page[0]][3], _PAGES[page[0]][4]
        if action in ("click", "add_to_cart"):
            self.tap(dev, element)
        elif action == "rage":
            self.rage(dev, element)
        elif action == "error":
            error_type, code = r.choice(_ERRORS[dev.channel])
            self.emit(dev, "error", error_type=error_type, error_code=code)
        elif action in ("form", "form_error", "form_abandon", "login", "purchase"):
            self.form(dev, form, action)
        elif action == "refine":
            for word in _REFINEMENTS[:r.randint(2, len(_REFINEMENTS))]:  # the first search plus 2+ = a burst
                self.wait(dev, r.uniform(*p.search_refine_gap_s))
                self.emit(dev, "search", search_query=f"{page[1]} {word}",
                          search_results=r.randint(0, p.search_hits[1] // 6))  # narrower: fewer hits
        self.wait(dev, dwell - before)

    def dwell(self) -> float:
        low, high = self.p.dwell_range_s
        return min(max(self.r.lognormvariate(math.log(self.p.dwell_median_s), self.p.dwell_sigma), low), high)

    def view(self, dev: _Device, page: tuple, acquisition: tuple | None) -> None:
        kind, arg = page
        path, title, screen = _PAGES[kind][:3]
        if dev.channel == "app":
            dev.screen = screen
            self.emit(dev, "screen_view")
            return
        referrer, utm, query = dev.url, None, ""
        if acquisition is not None:
            referrer, utm = acquisition
        if kind == "search":
            query = "?q=" + quote_plus(arg)
        elif arg is not None:
            path, title = path.format(arg), title.format(str(arg).replace("-", " ").capitalize())
        if utm:
            query = "?" + urlencode(dict(zip(("utm_source", "utm_medium", "utm_campaign"), utm)))
        elif kind == "product" and self.r.random() < self.p.click_rate:
            query = "?ref=" + self.r.choice(("home_carousel", "recommended", "x"))
        dev.url, dev.title = HOST + path + query, title
        source, medium, campaign = utm or (None, None, None)
        self.emit(dev, "page_view", referrer=referrer, utm_source=source, utm_medium=medium, utm_campaign=campaign)
        dev.next_ping = self.t + self.p.heartbeat_s * 1000

    def tap(self, dev: _Device, element: str, at: tuple | None = None) -> None:
        width, height = _VIEWPORT[dev.channel]
        x, y = at or (self.r.randrange(width), self.r.randrange(height))
        self.emit(dev, "click" if dev.channel == "web" else "tap", element_id=element, x=x, y=y)

    def rage(self, dev: _Device, element: str) -> None:
        width, height = _VIEWPORT[dev.channel]
        j = _RAGE_JITTER_PX
        x, y = self.r.randrange(j, width - j), self.r.randrange(j, height - j)
        for i in range(self.r.randint(*self.p.rage_clicks)):
            if i:
                self.t += self.ms(self.p.rage_gap_s)
            self.tap(dev, element, (x + self.r.randint(-j, j), y + self.r.randint(-j, j)))

    def form(self, dev: _Device, form_id: str, action: str) -> None:
        r, p = self.r, self.p
        form_id = "login_form" if action == "login" else form_id
        self.emit(dev, "form_start", form_id=form_id)
        self.wait(dev, r.uniform(*p.form_fill_s))
        if action == "form_error":
            self.emit(dev, "form_error", form_id=form_id, error_type="validation",
                      error_code=r.choice(_FORM_ERRORS))
            self.wait(dev, r.uniform(*p.form_fill_s) / 3)
        if action == "form_abandon":
            return
        self.emit(dev, "form_submit", form_id=form_id)
        if action == "login":
            self.t += self.ms(p.nav_latency_s)  # the tracker learns the user_id once the server accepts
            dev.user_id = self.user_id
            self.emit(dev, "login")
        elif action == "purchase":
            self.t += self.ms(p.nav_latency_s)
            self.emit(dev, "purchase", order_id=f"ORD-{r.randrange(10**8):08d}",
                      revenue=round(r.uniform(*p.revenue_range), 2),
                      properties={"currency": "GBP", "items": str(r.randint(1, 4))})

    def background(self, dev: _Device) -> None:
        self.emit(dev, "app_background")
        self.t += self.ms(self.p.background_s)
        if self.r.random() < self.p.foreground_rate:
            self.emit(dev, "app_foreground")

    # -- chat ------------------------------------------------------------------
    def conversation(self, dev: _Device, entry_point: str) -> None:
        r, p = self.r, self.p
        conv = f"conv-{r.getrandbits(64):016x}"
        intent = r.choice(tuple(_INTENTS))
        def say(sender: str, text: str, **fields):
            self.t += self.ms(p.reply_s)
            self.emit(dev, "message", conversation_id=conv, sender=sender, message_text=text, **fields)
        self.emit(dev, "conversation_start", conversation_id=conv, sender="customer",
                  properties={"entry_point": entry_point})
        say("bot", "Hi! I'm the Example Shop assistant. How can I help?")
        say("customer", self.customer_text(r.choice(_INTENTS[intent])), intent=intent)
        if dev.user_id is None and self.user_id and r.random() < p.chat_verify_rate:
            dev.user_id = self.user_id  # verified through a secure link: chat's equivalent of login
            say("system", "Customer identity verified", intent="identity_verified")
        for _ in range(r.randint(*p.bot_turns)):
            say("bot", r.choice(_BOT))
            say("customer", self.customer_text(r.choice(_CUSTOMER)))
        resolution = "resolved" if r.random() >= p.unresolved_rate else r.choice(("unresolved", "abandoned"))
        if r.random() < p.escalation_rate:
            say("customer", "Can I speak to a person please?", intent="agent_request")
            self.t += self.ms(p.nav_latency_s)
            self.emit(dev, "handoff_requested", conversation_id=conv, sender="bot", intent=intent)
            if r.random() < p.queue_abandon_rate:
                self.t += self.ms(p.long_wait_s)
                resolution = "abandoned"
            else:
                self.t += self.ms(p.long_wait_s if r.random() < p.long_wait_rate else p.agent_wait_s)
                self.emit(dev, "agent_joined", conversation_id=conv, sender="agent",
                          message_text=f"{r.choice(_NAMES).capitalize()} has joined the chat")
                for _ in range(r.randint(*p.agent_turns)):
                    say("agent", r.choice(_AGENT))
                    say("customer", self.customer_text(r.choice(_CUSTOMER)))
        self.t += self.ms(p.reply_s)
        self.emit(dev, "conversation_end", conversation_id=conv, sender="system", resolution=resolution)
        if r.random() < p.csat_rate:
            weights = p.csat_weights_resolved if resolution == "resolved" else p.csat_weights_unresolved
            score = r.choices(range(1, 6), weights)[0]
            self.t += self.ms(p.reply_s)
            self.emit(dev, "csat", conversation_id=conv, sender="customer", csat_score=score)

    def customer_text(self, template: str) -> str:
        r = self.r
        text = template.format(order=f"ORD-{r.randrange(10**8):08d}")
        if r.random() < self.p.pii_rate:
            first, last = r.sample(_NAMES, 2)
            pii = r.choice(_PII).format(email=f"{first}.{last}{r.randint(1, 99)}@example.com",
                                        phone=phone_number(r), card=card_number(r))
            text = f"{text}, {pii}"
        return text


def phone_number(rng: random.Random) -> str:
    """A phone number from the ranges regulators reserve for fiction, in international format."""
    return "".join(str(rng.randrange(10)) if c == "#" else c for c in rng.choice(_PHONE_FORMATS))


def card_number(rng: random.Random) -> str:
    """A 16-digit Visa-style number with a valid Luhn check digit, in groups of four."""
    payload = [4] + [rng.randrange(10) for _ in range(14)]
    total = sum((d * 2 - 9 if d > 4 else d * 2) if i % 2 == 0 else d for i, d in enumerate(reversed(payload)))
    digits = "".join(map(str, payload + [(10 - total % 10) % 10]))
    return " ".join(digits[i:i + 4] for i in range(0, 16, 4))


def _publish(rng: random.Random, p: SyntheticProfile, events: list[dict], n_dup: int) -> list[dict]:
    """Arrival order: event time, except a few late events and re-sent duplicates."""
    keyed = []
    for i, ev in enumerate(events):
        late = int(rng.uniform(*p.late_s) * 1000) if rng.random() < p.late_rate else 0
        keyed.append((ev["event_time"] + late, i, ev))
    for i in sorted(rng.sample(range(len(events)), n_dup)):
        arrival, _, ev = keyed[i]
        copy = {**ev, "properties": dict(ev["properties"])}
        keyed.append((arrival + int(rng.uniform(*p.duplicate_delay_s) * 1000), len(keyed), copy))
    keyed.sort(key=lambda k: (k[0], k[1]))
    return [ev for _, _, ev in keyed]


def generate_events(n: int, seed: int = 0, start: datetime = DEFAULT_START, span_s: int = 86_400,
                    profile: SyntheticProfile | None = None) -> list[dict]:
    """Exactly n events (duplicates included), in publish (arrival) order."""
    if n <= 0:
        return []
    p = profile or SyntheticProfile()
    rng = random.Random(seed)
    n_dup = min(int(n * p.duplicate_rate + rng.random()), n // 2)  # stochastic rounding keeps the rate for small n
    wanted, span_ms = n - n_dup, span_s * 1000
    start_ms = int(start.timestamp() * 1000)
    sim, events, index = _Simulator(rng, p), [], 0
    while len(events) < wanted:
        timeline = sim.customer(index, span_ms)
        index += 1
        shift = start_ms + rng.randrange(max(1, span_ms - timeline[-1]["event_time"]))
        for ev in timeline[: wanted - len(events)]:
            ev["event_time"] += shift
            events.append(ev)
    return _publish(rng, p, events, n_dup)


def write_jsonl(events: Iterable[dict], path) -> int:
    """Write one JSON object per line (UTF-8); return how many were written."""
    count = 0
    with open(path, "w", encoding="utf-8") as out:
        for ev in events:
            out.write(json.dumps(ev, ensure_ascii=False, separators=(",", ":")))
            out.write("\n")
            count += 1
    return count
