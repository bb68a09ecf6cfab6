"""The synthetic shop: its pages, searches, errors, traffic sources and chat lines, and the rates.

What :mod:`journeys.generators.simulator` draws from when it builds a customer's
day; :class:`SyntheticProfile` holds every rate and range.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

HOST = "https://shop.example.com"

_COMMON = ("event_id", "event_type", "channel", "event_time", "anonymous_id", "user_id", "properties")
_ACTIONS = ("element_id", "x", "y", "form_id", "search_query", "search_results",
            "error_type", "error_code", "order_id", "revenue")
FIELDS = {  # must equal the .avsc field lists in schemas/ (tests check it)
    "web": _COMMON + ("page_url", "page_title", "referrer", "utm_source", "utm_medium", "utm_campaign") + _ACTIONS,
    "app": _COMMON + ("screen_name", "app_version", "os") + _ACTIONS,
    "chat": _COMMON + ("conversation_id", "sender", "message_text", "intent", "resolution", "csat_score"),
}
BLANK = {channel: dict.fromkeys(names) for channel, names in FIELDS.items()}


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
PAGES = {
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
BROWSE = ("home", "category", "category", "product", "product", "product", "offers")
ARGS = {"category": ("shoes", "jackets", "bags", "accessories", "sale"), "product": range(1, 401),
        "article": ("returns", "delivery", "payment-methods", "track-order", "reset-password")}
QUERIES = ("running shoes", "rain jacket", "leather bag", "gift card", "wool socks", "trail shoes", "backpack")
REFINEMENTS = ("men", "size 9", "black")
NO_HIT_QUERIES = ("blu snekers xl", "waterprof jaket", "ebike charger 48v", "gfit crad")
RAGE_JITTER_PX = 8  # a frustrated user hits roughly the same spot
VIEWPORT = {"web": (1440, 900), "app": (390, 844)}
ERRORS = {"web": (("http", "404"), ("http", "500"), ("http", "503"), ("javascript", "TypeError"),
                  ("network", "ERR_CONNECTION_RESET")),
          "app": (("crash", "SIGABRT"), ("network", "timeout"), ("api", "HTTP 503"), ("api", "HTTP 500"))}
FORM_ERRORS = ("required_field", "invalid_email", "invalid_postcode", "card_declined", "wrong_password")
ACQUISITION = {  # source: (referrers, utm (source, medium, campaign) choices; None = no utm)
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
OS = ("iOS 17.5", "iOS 18.2", "Android 14", "Android 15")
APP_VERSIONS = ("5.2.0", "5.3.1", "5.4.0")
INTENTS = {  # chat intent: opening customer messages
    "order_status": ("Where is my order {order}?", "My parcel still hasn't arrived"),
    "returns": ("How do I return a jacket?", "I want to send back order {order}"),
    "billing": ("I was charged twice for {order}", "When will my refund arrive?"),
    "account_access": ("I can't log in to my account", "The password reset email never came"),
    "delivery_change": ("Can I change the delivery address for {order}?", "Can you deliver on Saturday?"),
    "product_question": ("Is the rain jacket waterproof?", "Do the trail shoes run small?"),
}
PII = ("my email is {email}", "you can call me on {phone}", "it was paid with card {card}")
BOT = ("I can help with that.", "Let me check that for you.", f"This article may help: {HOST}/help/returns",
       "Did that answer your question?")
CUSTOMER = ("ok thanks", "that doesn't help", "it says something went wrong", "yes", "still waiting")
AGENT = ("Thanks for waiting, let me look into it.", "I've updated that for you.",
         "I've raised a ticket for this.", "Is there anything else I can help with?")
_PHONE_FORMATS = ("+44 20 7946 0###", "+1-202-555-01##", "+44 7700 900###", "+33 1 99 00 ## ##",
                  "+49 30 23125 ###")
NAMES = ("alex", "sam", "maria", "li", "omar", "anna", "john", "priya")


def phone_number(rng: random.Random) -> str:
    """A phone number from the ranges regulators reserve for fiction, in international format."""
    return "".join(str(rng.randrange(10)) if c == "#" else c for c in rng.choice(_PHONE_FORMATS))


def card_number(rng: random.Random) -> str:
    """A 16-digit Visa-style number with a valid Luhn check digit, in groups of four."""
    payload = [4] + [rng.randrange(10) for _ in range(14)]
    total = sum((d * 2 - 9 if d > 4 else d * 2) if i % 2 == 0 else d for i, d in enumerate(reversed(payload)))
    digits = "".join(map(str, payload + [(10 - total % 10) % 10]))
    return " ".join(digits[i:i + 4] for i in range(0, 16, 4))
