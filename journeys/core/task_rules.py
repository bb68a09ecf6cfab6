"""Which pages, screens, events, chat intents and forms make each task: records and defaults.

A ``TaskRule`` per task is configuration (``[tasks]`` in the config file);
what "touches" and "completes" mean is in ``journeys/rules/tasks.py``.
The default rules (the synthetic shop has no phone channel; phone_escalation
uses a ``/contact/phone`` page, a ``callback_form`` and the chat intents
``phone_request`` and ``callback_request`` that real bots use for "call me"):
see ``DEFAULT_TASKS`` below, one rule per task with a comment.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TaskRule:
    name: str
    pages: tuple = ()  # web path prefixes
    screens: tuple = ()  # app screen names
    event_types: tuple = ()
    intents: tuple = ()  # chat intents
    form_ids: tuple = ()
    completion: tuple = ()  # "event_type", "event_type:form_id", "page:/prefix", "screen:name"


DEFAULT_TASKS: tuple[TaskRule, ...] = (
    # Looking something up: search, or a product question in chat; found = a product page or help article.
    TaskRule("find_info", pages=("/search",), screens=("search_results",), event_types=("search",),
             intents=("product_question",),
             completion=("page:/products/", "screen:product_detail", "page:/help/", "screen:help_article")),
    # Account pages, the address form, account or delivery questions; done = address saved or orders viewed.
    TaskRule("manage_account", pages=("/account",), screens=("account", "orders"), form_ids=("address_form",),
             intents=("account_access", "delivery_change"),
             completion=("form_submit:address_form", "page:/account/orders", "screen:orders")),
    # Offers page; done = a purchase after it.
    TaskRule("offers", pages=("/offers",), screens=("offers",), completion=("purchase",)),
    # Basket and checkout; done = a purchase or the order confirmation page.
    TaskRule("purchase", pages=("/cart", "/checkout"), screens=("cart", "checkout"), form_ids=("checkout_form",),
             event_types=("purchase",),
             completion=("purchase", "page:/checkout/confirmation", "screen:order_confirmation")),
    # Help centre or an order-status question; done = a help article read.
    TaskRule("self_service", pages=("/help",), screens=("help", "help_article"), intents=("order_status",),
             completion=("page:/help/", "screen:help_article")),
    # Contact page or form, billing or returns questions; done = the contact form sent.
    TaskRule("support_ticket", pages=("/contact",), screens=("contact",), form_ids=("contact_form",),
             intents=("billing", "returns"), completion=("form_submit:contact_form",)),
    # Asking for a person; done = an agent joined.
    TaskRule("live_agent", event_types=("handoff_requested",), intents=("agent_request",),
             completion=("agent_joined",)),
    # Asking for a call; done = the phone page seen or a callback form sent.
    TaskRule("phone_escalation", pages=("/contact/phone",), screens=("contact_phone",), form_ids=("callback_form",),
             intents=("phone_request", "callback_request"),
             completion=("page:/contact/phone", "screen:contact_phone", "form_submit:callback_form")),
)
