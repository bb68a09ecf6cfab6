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

from typing import Sequence

from journeys.core.events import Event
from journeys.core.model import FrictionPoint, Journey, TaskAttempt
from journeys.core.task_rules import DEFAULT_TASKS, TaskRule
from journeys.rules.pages import event_order, page_of

_MS = 1000.0



def path_matches(path: str | None, prefix: str) -> bool:
    if path is None:
        return False
    if prefix.endswith("/"):
        return path.startswith(prefix)
    return path == prefix or path.startswith(prefix + "/")


def touches(event: Event, rule: TaskRule) -> bool:
    if event.channel == "web" and any(path_matches(page_of(event), p) for p in rule.pages):
        return True
    if event.channel == "app" and event.screen_name in rule.screens:
        return True
    return (event.event_type in rule.event_types or (event.intent is not None and event.intent in rule.intents)
            or (event.form_id is not None and event.form_id in rule.form_ids))


def completes(event: Event, signal: str) -> bool:
    kind, _, value = signal.partition(":")
    if kind == "page" and value:
        return event.channel == "web" and event.event_type == "page_view" and path_matches(page_of(event), value)
    if kind == "screen" and value:
        return event.channel == "app" and event.event_type == "screen_view" and event.screen_name == value
    return event.event_type == kind and (not value or event.form_id == value)


def task_attempts(journey_events: Sequence[Event], journey: Journey, friction: Sequence[FrictionPoint],
                  rules: Sequence[TaskRule] = DEFAULT_TASKS) -> list[TaskAttempt]:
    """At most one attempt per task in this journey (see the module docstring)."""
    events = sorted(journey_events, key=event_order)
    friction_times = [f.occurred_at for f in friction if f.journey_id == journey.journey_id]
    out = []
    for rule in rules:
        start = next((i for i, e in enumerate(events) if touches(e, rule)), None)
        if start is None:
            continue
        started_at = events[start].event_time
        done = next((e for e in events[start:] if any(completes(e, s) for s in rule.completion)), None)
        out.append(TaskAttempt(
            journey_id=journey.journey_id, customer_id=journey.customer_id, task=rule.name, started_at=started_at,
            completed=done is not None, duration_s=None if done is None else (done.event_time - started_at) / _MS,
            had_friction=any(t >= started_at for t in friction_times), effort_score=journey.effort_score))
    return out
