"""A hand-worked cross-channel scenario, end to end through `journeys run --source file:`.

tests/scenarios/cross_channel.jsonl, worked out by hand from the contract:

cust-42, journey 1 (10:00:00-10:25:10, 1510 s, web -> app -> chat, 29 events):
  web ck-A logs in at 10:02 (cust-42); app dev-B is signed in; chat-C is verified
  by a system message at 10:20:06 - all three devices are one customer.
  /              10:00:00  -> next view 10:00:40 = 40 s; pings at :10, :20, :25 fall in
                           2 ten-second buckets -> engaged 10 x (2 - 1) + 5 = 15 s
  /products/42   10:00:40  -> 10:01:00 = 20 s (query string dropped from the page)
  /cart          10:01:00  -> 10:01:05 = 5 s
  /products/42   10:01:05  -> 10:02:10 = 65 s
  /products/42   10:02:10  last view of ck-A, nothing later on it -> unknown (null)
  home (app)     10:05:01  -> 10:15:41 = 640 s, less 10:05:31-10:15:31 in the
                           background = 40 s
  orders (app)   10:15:41  last view of dev-B; its last later event on that screen
                           is the page-less search at 10:16:00 -> 19 s
  friction: rage_click 10:00:46.400 (3rd click, gaps 500 and 900 ms), quick_back
  10:01:05 (/products/42 -> /cart 5 s -> back), form_abandon 10:01:30 (checkout
  never submitted), form_error 10:01:50, page_loop 10:02:10 (3rd view),
  search_no_results 10:16:00 (page: the device's screen, orders),
  channel_switch 10:20:00, bot_escalation 10:20:30 (handoff after a bot
  message), long_wait 10:22:00 (90 s > 60 s), unresolved_chat 10:25:00.
  score 2+1+2+1+1+1+1+2+3+3 = 17; effort 1 + floor(17/3) = 6, + 1 escalated
  and unresolved without a purchase -> clamped to 5.
cust-42, journey 2 (14:00, chat only): repeat_contact (3 h 40 min after the last
  conversation_start), resolved, never a bounce; score 2, effort 1.
ck-Z: one e-mail campaign view, no pings -> bounce; time on page unknown.
ck-Y: /a at 12:00, purchase 12:10, /b at 12:30:00 (exactly 30 min after the
  previous event: same journey), /c at 13:00:00.001 (30 min + 1 ms: new journey).
  Journey 1 referral (blog.other.org), converted, 1800 s -> effort 1 + 1 = 2;
  journey 2 direct, bounce.
Input: 37 events + 1 duplicate (a06) + 2 dead letters (truncated JSON, 1999).
"""

import duckdb
import pytest
from support.paths import SCENARIOS

from journeys.commands.cli import main

SCENARIO = SCENARIOS / "cross_channel.jsonl"


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    path = tmp_path_factory.mktemp("scenario") / "w.duckdb"
    assert main(["run", "--source", f"file:{SCENARIO}", "--warehouse", f"duckdb:{path}",
                 "--output-dir", str(path.parent / "runs")]) == 0
    return path


def query(warehouse, sql):
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_journeys(warehouse):
    rows = query(warehouse, """
        SELECT customer_id, strftime(started_at, '%H:%M:%S.%g'), duration_s, channels, event_count,
               page_view_count, entry_page, exit_page, acquisition_channel, converted, escalated, resolved,
               bounced, friction_count, friction_score, effort_score, engaged_time_s
        FROM journeys ORDER BY started_at""")
    assert rows == [
        ("cust-42", "10:00:00.000", 1510.0, "web,app,chat", 29, 7, "/", "orders", "organic_search",
         False, True, False, False, 10, 17.0, 5, 15.0),
        ("ck-Z", "11:00:00.000", 0.0, "web", 1, 1, "/landing", "/landing", "email",
         False, False, False, True, 0, 0.0, 1, 0.0),
        ("ck-Y", "12:00:00.000", 1800.0, "web", 3, 2, "/a", "/b", "referral",
         True, False, False, False, 0, 0.0, 2, 0.0),
        ("ck-Y", "13:00:00.001", 0.0, "web", 1, 1, "/c", "/c", "direct",
         False, False, False, True, 0, 0.0, 1, 0.0),
        ("cust-42", "14:00:00.000", 300.0, "chat", 3, 0, None, None, "chat",
         False, False, True, False, 1, 2.0, 1, 0.0),
    ]


def test_page_views_and_time_on_page(warehouse):
    rows = query(warehouse, """
        SELECT customer_id, channel, page, seq, time_on_page_s, engaged_time_s, is_entry, is_exit
        FROM page_views ORDER BY viewed_at""")
    assert rows == [
        ("cust-42", "web", "/", 1, 40.0, 15.0, True, False),
        ("cust-42", "web", "/products/42", 2, 20.0, 0.0, False, False),
        ("cust-42", "web", "/cart", 3, 5.0, 0.0, False, False),
        ("cust-42", "web", "/products/42", 4, 65.0, 0.0, False, False),
        ("cust-42", "web", "/products/42", 5, None, 0.0, False, False),
        ("cust-42", "app", "home", 6, 40.0, 0.0, False, False),
        ("cust-42", "app", "orders", 7, 19.0, 0.0, False, True),
        ("ck-Z", "web", "/landing", 1, None, 0.0, True, True),
        ("ck-Y", "web", "/a", 1, 1800.0, 0.0, True, False),
        ("ck-Y", "web", "/b", 2, None, 0.0, False, True),
        ("ck-Y", "web", "/c", 1, None, 0.0, True, True),
    ]


def test_friction_events(warehouse):
    rows = query(warehouse, """
        SELECT friction_type, channel, page, strftime(occurred_at, '%H:%M:%S.%g'), detail
        FROM friction_events ORDER BY occurred_at""")
    assert rows == [
        ("rage_click", "web", "/products/42", "10:00:46.400", "buy (3 clicks)"),
        ("quick_back", "web", "/products/42", "10:01:05.000", "/cart"),
        ("form_abandon", "web", "/products/42", "10:01:30.000", "checkout"),
        ("form_error", "web", "/products/42", "10:01:50.000", "checkout:card_declined"),
        ("page_loop", "web", "/products/42", "10:02:10.000", "3 views"),
        ("search_no_results", "app", "orders", "10:16:00.000", "0 results"),
        ("channel_switch", "chat", None, "10:20:00.000", "conv-9"),
        ("bot_escalation", "chat", None, "10:20:30.000", "conv-9"),
        ("long_wait", "chat", None, "10:22:00.000", "conv-9"),
        ("unresolved_chat", "chat", None, "10:25:00.000", "conv-9"),
        ("repeat_contact", "chat", None, "14:00:00.000", "conv-10"),
    ]


def test_dead_letters_and_personal_data(warehouse):
    assert query(warehouse, "SELECT reason FROM dead_letters ORDER BY \"offset\"") == [
        ("invalid_json",), ("event_time_too_old",)]
    stored = " ".join(str(r) for r in query(warehouse, "SELECT record FROM events"))
    assert "jo@example.com" not in stored and "jo%40example.com" not in stored
    assert "4111" not in stored  # raw chat text is not stored at all
    assert query(warehouse, "SELECT count(*) FROM events WHERE record->>'message_text' IS NOT NULL") == [(0,)]


def test_a_rerun_leaves_the_same_rows(warehouse):
    tables = ("journeys", "page_views", "friction_events", "events", "dead_letters")
    before = {t: sorted(map(str, query(warehouse, f"SELECT * FROM {t}"))) for t in tables}
    assert main(["run", "--source", f"file:{SCENARIO}", "--warehouse", f"duckdb:{warehouse}",
                 "--output-dir", str(warehouse.parent / "runs")]) == 0
    after = {t: sorted(map(str, query(warehouse, f"SELECT * FROM {t}"))) for t in tables}
    assert after == before
