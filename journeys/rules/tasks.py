"""Customer tasks and their attempts per journey (input of ``task_effort_daily``); no Beam here.

Which pages, screens, events, chat intents and forms belong to a task is
configuration: a ``TaskRule`` per task, ``DEFAULT_TASKS`` the defaults for a
shop like ``journeys/synthetic.py``'s.

An event TOUCHES a task when any of these holds:
- ``pages``: it is a web event whose page (URL path without query string, as in
  ``page_views.page``) matches a prefix. A prefix ending in "/" matches by
  plain string prefix ("/help/" matches "/help/returns", not "/help"); any
  other prefix matches the path itself or a path below it ("/help" matches
  "/help" and "/help/returns", not "/helpdesk"). Any web event with a page
  counts (a page_view, a click or form_submit on that page, ...).
- ``screens``: it is an app event whose screen_name is one of them (exact).
- ``event_types``: its event_type is one of them (any channel).
- ``intents``: its ``intent`` is one of them (chat messages carry intents).
- ``form_ids``: its ``form_id`` is one of them.

A COMPLETION signal is one of ``completion``'s strings:
- "event_type": an event of that type ("purchase");
- "event_type:form_id": that type with that form_id ("form_submit:address_form");
- "page:/prefix": a web ``page_view`` whose page matches the prefix (rules above);
- "screen:name": an app ``screen_view`` of that screen (an extension, for app parity).

``task_attempts`` gives, per journey, at most one attempt per task:
- it starts at the first event (event order: event_time, then event_id) that
  touches the task; later touches of the same task are the same attempt;
- completed when a completion signal occurs at or after the start event in
  event order, in the same journey (the start event itself may complete it; a
  signal before the first touch does not count);
- duration_s: start to the first such completion, None when not completed;
- had_friction: the journey has a friction point with occurred_at at or after
  the start time (same millisecond counts), whatever its type or page;
- effort_score: the journey's effort_score (a task inherits its journey's effort).
Attempts come in the order of ``rules``.

The default rules are ``journeys.core.task_rules.DEFAULT_TASKS``.
"""
from __future__ import annotations

import functools
from typing import Sequence

from journeys.core.events import Event
from journeys.core.model import FrictionPoint, Journey, TaskAttempt
from journeys.core.task_rules import DEFAULT_TASKS, TaskRule
from journeys.rules.pages import event_order_key, page_of

_MS = 1000.0
_NO_RULES: frozenset[int] = frozenset()



def path_matches(path: str | None, prefix: str) -> bool:
    if path is None:
        return False
    if prefix.endswith("/"):
        return path.startswith(prefix)
    return path == prefix or path.startswith(prefix + "/")


def touches(event: Event, rule: TaskRule) -> bool:
    return _Rule(rule).touches(event, page_of(event) if event.channel == "web" and rule.pages else None)


def completes(event: Event, signal: str) -> bool:
    kind, _, value = signal.partition(":")
    page = page_of(event) if kind == "page" and value and event.channel == "web" else None
    return _completes(event, page, kind, value)


def _completes(event: Event, page: str | None, kind: str, value: str) -> bool:
    """``completes`` with the signal split and the event's page (None unless the signal is a page one)."""
    if kind == "page" and value:
        return event.channel == "web" and event.event_type == "page_view" and path_matches(page, value)
    if kind == "screen" and value:
        return event.channel == "app" and event.event_type == "screen_view" and event.screen_name == value
    return event.event_type == kind and (not value or event.form_id == value)


class _Rule:
    """A rule's tests with its page prefixes read once: ``path_matches`` for all of them in two lookups."""

    def __init__(self, rule: TaskRule):
        self.rule = rule
        self.exact_pages = frozenset(p for p in rule.pages if not p.endswith("/"))
        self.page_prefixes = tuple(p if p.endswith("/") else p + "/" for p in rule.pages)
        self.signals = tuple(signal.partition(":")[::2] for signal in rule.completion)
        # Every signal wants one event type: "page:..." a page_view, "screen:..." a screen_view, else its own.
        self.signals_by_type: dict[str, list[tuple[str, str]]] = {}
        for kind, value in self.signals:
            wanted = {"page": "page_view", "screen": "screen_view"}.get(kind, kind) if value else kind
            self.signals_by_type.setdefault(wanted, []).append((kind, value))

    def matches_page(self, page: str) -> bool:
        return page in self.exact_pages or page.startswith(self.page_prefixes)

    def touches(self, event: Event, page: str | None) -> bool:
        """``touches``, given the event's page (``page_of``; None for other channels)."""
        rule = self.rule
        if page is not None and event.channel == "web" and self.matches_page(page):
            return True
        if event.channel == "app" and event.screen_name in rule.screens:
            return True
        return (event.event_type in rule.event_types or (event.intent is not None and event.intent in rule.intents)
                or (event.form_id is not None and event.form_id in rule.form_ids))

    def completed_by(self, event: Event, page: str | None) -> bool:
        signals = self.signals_by_type.get(event.event_type)
        return signals is not None and any(_completes(event, page, kind, value) for kind, value in signals)


class _Rules:
    """Which rules an event touches, by lookups: each screen, event type, intent, form and page -> rules."""

    _MAX_PAGES = 65_536

    def __init__(self, rules: Sequence[TaskRule]):
        self.rules = [_Rule(rule) for rule in rules]
        self.by_screen: dict = {}
        self.by_type: dict = {}
        self.by_intent: dict = {}
        self.by_form: dict = {}
        for index, rule in enumerate(rules):
            for table, values in ((self.by_screen, rule.screens), (self.by_type, rule.event_types),
                                  (self.by_intent, rule.intents), (self.by_form, rule.form_ids)):
                for value in values:
                    table.setdefault(value, set()).add(index)
        self._by_page: dict[str, frozenset[int]] = {}

    def by_page(self, page: str) -> frozenset[int]:
        found = self._by_page.get(page)
        if found is None:
            if len(self._by_page) >= self._MAX_PAGES:
                self._by_page.clear()
            found = self._by_page[page] = frozenset(i for i, r in enumerate(self.rules) if r.matches_page(page))
        return found

    def touched(self, event: Event, page: str | None) -> set[int]:
        """The indexes of the rules that ``event`` touches (``page``: its page_of on web, else None)."""
        found = set(self.by_type.get(event.event_type, _NO_RULES))
        if page is not None and event.channel == "web":
            found |= self.by_page(page)
        if event.channel == "app":
            found |= self.by_screen.get(event.screen_name, _NO_RULES)
        if event.intent is not None:
            found |= self.by_intent.get(event.intent, _NO_RULES)
        if event.form_id is not None:
            found |= self.by_form.get(event.form_id, _NO_RULES)
        return found


@functools.lru_cache(maxsize=16)
def _indexed(rules: tuple[TaskRule, ...]) -> _Rules:
    return _Rules(rules)


_last_index: list = [None, None]  # the rules last indexed and their index: the same rules come every call


def _rules_index(rules: Sequence[TaskRule]) -> _Rules:
    if rules is _last_index[0] and type(rules) is tuple:  # a tuple of frozen rules cannot change
        return _last_index[1]
    try:
        index = _indexed(tuple(rules))
    except TypeError:  # a rule with an unhashable value: index it for this call only
        return _Rules(rules)
    _last_index[:] = [rules, index]
    return index


def task_attempts(journey_events: Sequence[Event], journey: Journey, friction: Sequence[FrictionPoint],
                  rules: Sequence[TaskRule] = DEFAULT_TASKS) -> list[TaskAttempt]:
    """At most one attempt per task in this journey (see the module docstring)."""
    events = sorted(journey_events, key=event_order_key)
    pages = [page_of(e) if e.channel == "web" else None for e in events]
    index = _rules_index(rules)
    starts: dict[int, int] = {}  # rule index -> index of its first touching event
    for i, (event, page) in enumerate(zip(events, pages)):
        for rule_index in index.touched(event, page):
            starts.setdefault(rule_index, i)
    friction_times = [f.occurred_at for f in friction if f.journey_id == journey.journey_id]
    latest_friction = max(friction_times, default=None)
    out = []
    for rule_index, rule in enumerate(rules):
        start = starts.get(rule_index)
        if start is None:
            continue
        test = index.rules[rule_index]
        started_at = events[start].event_time
        done = next((e for i, e in enumerate(events[start:], start) if test.completed_by(e, pages[i])), None)
        out.append(TaskAttempt(
            journey_id=journey.journey_id, customer_id=journey.customer_id, task=rule.name, started_at=started_at,
            completed=done is not None, duration_s=None if done is None else (done.event_time - started_at) / _MS,
            had_friction=latest_friction is not None and latest_friction >= started_at,
            effort_score=journey.effort_score))
    return out
