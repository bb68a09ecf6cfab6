"""One synthetic customer's day, event by event: devices, journeys, web/app sessions and chats.

Every draw comes from the one ``random.Random`` handed in, in a fixed order: one seed, one timeline.
"""
from __future__ import annotations

import math
import random
import uuid
from dataclasses import dataclass
from urllib.parse import quote_plus, urlencode

from journeys.generators import catalogue as shop


@dataclass
class Device:
    channel: str
    anonymous_id: str
    user_id: str | None = None
    url: str | None = None        # web: current page
    title: str | None = None
    screen: str | None = None     # app: current screen
    next_ping: int | None = None  # web: timeline ms of the next heartbeat; None when not reading
    os: str | None = None
    app_version: str | None = None


class Simulator:
    """Builds one customer's timeline at a time, in milliseconds from 0."""

    def __init__(self, rng: random.Random, profile: shop.SyntheticProfile):
        self.r, self.p = rng, profile
        self.t, self.events, self.user_id, self.devices = 0, [], None, {}

    # -- primitives ---------------------------------------------------------
    def ms(self, span: tuple) -> int:
        return int(self.r.uniform(*span) * 1000)

    def uid(self) -> uuid.UUID:
        return uuid.UUID(int=self.r.getrandbits(128), version=4)

    def pick(self, weighted: tuple):
        return self.r.choices([k for k, _ in weighted], [w for _, w in weighted])[0]

    def emit(self, dev: Device, event_type: str, **fields) -> None:
        ev = dict(shop.BLANK[dev.channel])
        ev.update(event_id=str(self.uid()), event_type=event_type, channel=dev.channel, event_time=self.t,
                  anonymous_id=dev.anonymous_id, user_id=dev.user_id, properties={})
        if dev.channel == "web":  # like Snowplow, every web event carries its page
            ev["page_url"], ev["page_title"] = dev.url, dev.title
        elif dev.channel == "app":
            ev["screen_name"], ev["os"], ev["app_version"] = dev.screen, dev.os, dev.app_version
        ev.update(fields)
        self.events.append(ev)

    def wait(self, dev: Device, seconds: float) -> None:
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
                Device("web", str(self.uid())) if channel == "web" else
                Device("app", str(self.uid()).upper(), os=r.choice(shop.OS),
                       app_version=r.choice(shop.APP_VERSIONS))
                if channel == "app" else Device("chat", f"chat-{r.getrandbits(64):016x}"))
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
        args = shop.ARGS.get(kind)
        return kind, (self.r.choice(args) if args else None)

    def other_page(self, page: tuple) -> tuple:
        while (other := self.page(self.r.choice(shop.BROWSE))) == page:
            pass
        return other

    def session(self, dev: Device, intent: str) -> None:
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

    def landing(self, dev: Device, intent: str) -> tuple:
        if dev.channel == "app":
            return "home", None
        kinds = {"purchase": ("product", "offers", "home"), "support": ("help", "article", "home"),
                 "account": ("home", "account")}.get(intent, shop.BROWSE)
        return self.page(self.r.choice(kinds))

    def plan(self, dev: Device, intent: str) -> list[tuple]:
        r, p = self.r, self.p
        steps = [(self.landing(dev, intent), None)]
        for _ in range(int(r.expovariate(1 / p.browse_pages_mean))):
            steps.append((self.page(r.choice(shop.BROWSE)), "click" if r.random() < p.click_rate else None))
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
            insert((self.page(r.choice(shop.BROWSE)), "error"))
        if r.random() < p.form_error_rate:
            insert((self.page(r.choice(("contact", "account", "checkout"))), "form_error"))
        if r.random() < p.form_abandon_rate:
            insert((self.page(r.choice(("contact", "account", "home"))), "form_abandon"))
        if r.random() < p.search_no_results_rate:
            insert((("search", r.choice(shop.NO_HIT_QUERIES)), "search_none"))
        if r.random() < p.search_refine_rate:
            insert((("search", r.choice(shop.QUERIES)), "refine"))
        elif r.random() < p.click_rate:
            insert((("search", r.choice(shop.QUERIES)), "search"))
        if r.random() < p.quick_back_rate:
            after_some_page(lambda a: [(self.other_page(a), "quick"), (a, None)])
        if r.random() < p.page_loop_rate:
            after_some_page(lambda a: [(self.other_page(a), None), (a, None),
                                       (self.other_page(a), None), (a, None)])

    def acquisition(self) -> tuple:
        referrers, utms = shop.ACQUISITION[self.pick(self.p.acquisition_mix)]
        return self.r.choice(referrers), self.r.choice(utms)

    def step(self, dev: Device, page: tuple, action: str | None, first: bool, acquisition: tuple | None) -> None:
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
        element, form = shop.PAGES[page[0]][3], shop.PAGES[page[0]][4]
        if action in ("click", "add_to_cart"):
            self.tap(dev, element)
        elif action == "rage":
            self.rage(dev, element)
        elif action == "error":
            error_type, code = r.choice(shop.ERRORS[dev.channel])
            self.emit(dev, "error", error_type=error_type, error_code=code)
        elif action in ("form", "form_error", "form_abandon", "login", "purchase"):
            self.form(dev, form, action)
        elif action == "refine":
            refinements = shop.REFINEMENTS
            for word in refinements[:r.randint(2, len(refinements))]:  # the first search plus 2+ = a burst
                self.wait(dev, r.uniform(*p.search_refine_gap_s))
                self.emit(dev, "search", search_query=f"{page[1]} {word}",
                          search_results=r.randint(0, p.search_hits[1] // 6))  # narrower: fewer hits
        self.wait(dev, dwell - before)

    def dwell(self) -> float:
        low, high = self.p.dwell_range_s
        return min(max(self.r.lognormvariate(math.log(self.p.dwell_median_s), self.p.dwell_sigma), low), high)

    def view(self, dev: Device, page: tuple, acquisition: tuple | None) -> None:
        kind, arg = page
        path, title, screen = shop.PAGES[kind][:3]
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
        dev.url, dev.title = shop.HOST + path + query, title
        source, medium, campaign = utm or (None, None, None)
        self.emit(dev, "page_view", referrer=referrer, utm_source=source, utm_medium=medium, utm_campaign=campaign)
        dev.next_ping = self.t + self.p.heartbeat_s * 1000

    def tap(self, dev: Device, element: str, at: tuple | None = None) -> None:
        width, height = shop.VIEWPORT[dev.channel]
        x, y = at or (self.r.randrange(width), self.r.randrange(height))
        self.emit(dev, "click" if dev.channel == "web" else "tap", element_id=element, x=x, y=y)

    def rage(self, dev: Device, element: str) -> None:
        width, height = shop.VIEWPORT[dev.channel]
        j = shop.RAGE_JITTER_PX
        x, y = self.r.randrange(j, width - j), self.r.randrange(j, height - j)
        for i in range(self.r.randint(*self.p.rage_clicks)):
            if i:
                self.t += self.ms(self.p.rage_gap_s)
            self.tap(dev, element, (x + self.r.randint(-j, j), y + self.r.randint(-j, j)))

    def form(self, dev: Device, form_id: str, action: str) -> None:
        r, p = self.r, self.p
        form_id = "login_form" if action == "login" else form_id
        self.emit(dev, "form_start", form_id=form_id)
        self.wait(dev, r.uniform(*p.form_fill_s))
        if action == "form_error":
            self.emit(dev, "form_error", form_id=form_id, error_type="validation",
                      error_code=r.choice(shop.FORM_ERRORS))
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

    def background(self, dev: Device) -> None:
        self.emit(dev, "app_background")
        self.t += self.ms(self.p.background_s)
        if self.r.random() < self.p.foreground_rate:
            self.emit(dev, "app_foreground")

    # -- chat ------------------------------------------------------------------
    def conversation(self, dev: Device, entry_point: str) -> None:
        r, p = self.r, self.p
        conv = f"conv-{r.getrandbits(64):016x}"
        intent = r.choice(tuple(shop.INTENTS))
        def say(sender: str, text: str, **fields):
            self.t += self.ms(p.reply_s)
            self.emit(dev, "message", conversation_id=conv, sender=sender, message_text=text, **fields)
        self.emit(dev, "conversation_start", conversation_id=conv, sender="customer",
                  properties={"entry_point": entry_point})
        say("bot", "Hi! I'm the Example Shop assistant. How can I help?")
        say("customer", self.customer_text(r.choice(shop.INTENTS[intent])), intent=intent)
        if dev.user_id is None and self.user_id and r.random() < p.chat_verify_rate:
            dev.user_id = self.user_id  # verified through a secure link: chat's equivalent of login
            say("system", "Customer identity verified", intent="identity_verified")
        for _ in range(r.randint(*p.bot_turns)):
            say("bot", r.choice(shop.BOT))
            say("customer", self.customer_text(r.choice(shop.CUSTOMER)))
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
                          message_text=f"{r.choice(shop.NAMES).capitalize()} has joined the chat")
                for _ in range(r.randint(*p.agent_turns)):
                    say("agent", r.choice(shop.AGENT))
                    say("customer", self.customer_text(r.choice(shop.CUSTOMER)))
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
            first, last = r.sample(shop.NAMES, 2)
            pii = r.choice(shop.PII).format(email=f"{first}.{last}{r.randint(1, 99)}@example.com",
                                        phone=shop.phone_number(r), card=shop.card_number(r))
            text = f"{text}, {pii}"
        return text
