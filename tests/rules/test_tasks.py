"""task_attempts: hand-worked events against every rule of journeys/tasks.py."""
from support.model_helpers import SECOND, T0, ev, screen, view

from journeys.core.model import FrictionPoint, Journey, TaskAttempt
from journeys.core.task_rules import DEFAULT_TASKS, TaskRule
from journeys.rules.tasks import completes, path_matches, task_attempts, touches


def journey(jid="j1", effort=3):
    return Journey(jid, "cust", T0, T0, 0.0, "web", 0, 0, None, None, "direct", False, False, False, False,
                   0, 0.0, effort, 0.0, "e0")


def friction(at_ms, jid="j1"):
    return FrictionPoint(jid, "cust", "error", "web", "/x", T0 + at_ms, None, "f")


def by_task(attempts):
    return {a.task: a for a in attempts}


def test_the_default_rules_cover_the_contract_tasks():
    assert [r.name for r in DEFAULT_TASKS] == ["find_info", "manage_account", "offers", "purchase", "self_service",
                                                "support_ticket", "live_agent", "phone_escalation"]


def test_path_prefixes():
    assert path_matches("/help", "/help") and path_matches("/help/returns", "/help")
    assert not path_matches("/helpdesk", "/help") and not path_matches("/help", "/help/")
    assert path_matches("/help/returns", "/help/") and not path_matches(None, "/help")


def test_touches_and_completion_signals():
    rule = TaskRule("t", pages=("/a",), screens=("s",), event_types=("search",), intents=("i",), form_ids=("f",),
                    completion=("purchase", "form_submit:f", "page:/done", "screen:ok"))
    assert touches(view("1", "/a/b?q=1", 0), rule) and touches(screen("2", "s", 0), rule)
    assert touches(ev("3", "search", 0), rule) and touches(ev("4", "message", 0, intent="i"), rule)
    assert touches(ev("5", "form_start", 0, form_id="f"), rule) and not touches(view("6", "/ab", 0), rule)
    assert not touches(screen("7", "a", 0), rule)
    assert completes(ev("8", "purchase", 0), "purchase")
    assert completes(ev("9", "form_submit", 0, form_id="f"), "form_submit:f")
    assert not completes(ev("10", "form_submit", 0, form_id="g"), "form_submit:f")
    assert completes(view("11", "/done", 0), "page:/done") and not completes(ev("12", "click", 0,
                                                                              page_url="https://x/done"), "page:/done")
    assert completes(screen("13", "ok", 0), "screen:ok") and not completes(screen("14", "ok2", 0), "screen:ok")


def test_a_purchase_journey():
    events = [view("a", "/", 0), view("b", "/offers", 10 * SECOND), view("c", "/cart", 30 * SECOND),
              view("d", "/checkout", 40 * SECOND),
              ev("e", "form_start", 45 * SECOND, form_id="checkout_form", page_url="https://s/checkout"),
              ev("f", "purchase", 90 * SECOND, page_url="https://s/checkout")]
    got = by_task(task_attempts(events, journey(), [friction(20 * SECOND), friction(0, jid="other")]))
    assert set(got) == {"offers", "purchase"}
    assert got["offers"] == TaskAttempt("j1", "cust", "offers", T0 + 10 * SECOND, True, 80.0, True, 3)
    # the friction at 20 s is before the purchase task starts; the other journey's does not count
    assert got["purchase"] == TaskAttempt("j1", "cust", "purchase", T0 + 30 * SECOND, True, 60.0, False, 3)


def test_completed_before_it_started_does_not_count():
    rule = TaskRule("t", pages=("/a",), completion=("purchase",))
    events = [ev("p", "purchase", 0), view("v", "/a", 5 * SECOND)]
    assert task_attempts(events, journey(), [], [rule]) == [
        TaskAttempt("j1", "cust", "t", T0 + 5 * SECOND, False, None, False, 3)]


def test_two_touches_are_one_attempt_from_the_first_and_the_start_event_may_complete():
    rule = TaskRule("t", pages=("/a",), event_types=("purchase",), completion=("purchase",))
    events = [view("v1", "/a", 0), view("v2", "/a", 60 * SECOND), ev("p", "purchase", 90 * SECOND),
              ev("p2", "purchase", 99 * SECOND)]
    assert task_attempts(events, journey(), [friction(90 * SECOND)], [rule]) == [
        TaskAttempt("j1", "cust", "t", T0, True, 90.0, True, 3)]
    assert task_attempts([ev("p", "purchase", 0)], journey(), [], [rule])[0].duration_s == 0.0


def test_chat_tasks_live_agent_and_intents():
    events = [ev("c1", "conversation_start", 0), ev("c2", "message", SECOND, sender="customer", intent="billing"),
              ev("c3", "message", 5 * SECOND, sender="customer", intent="agent_request"),
              ev("c4", "handoff_requested", 6 * SECOND), ev("c5", "agent_joined", 66 * SECOND)]
    got = by_task(task_attempts(list(reversed(events)), journey(effort=4), [friction(66 * SECOND)]))
    assert set(got) == {"support_ticket", "live_agent"}
    assert got["live_agent"] == TaskAttempt("j1", "cust", "live_agent", T0 + 5 * SECOND, True, 61.0, True, 4)
    assert got["support_ticket"].completed is False and got["support_ticket"].duration_s is None


def test_app_screens_and_find_info():
    events = [screen("s1", "search_results", 0), ev("s2", "search", SECOND, "device-1", channel="app"),
              screen("s3", "product_detail", 20 * SECOND), screen("s4", "help", 30 * SECOND)]
    got = by_task(task_attempts(events, journey(), []))
    assert got["find_info"] == TaskAttempt("j1", "cust", "find_info", T0, True, 20.0, False, 3)
    assert got["self_service"].completed is False
