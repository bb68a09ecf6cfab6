"""AggregateDaily(CHAT_TASK_DAILY) under TestPipeline, against SQL recomputed by DuckDB from the summary rows."""

from importlib import resources

import apache_beam as beam
import duckdb
import pyarrow as pa
import pytest
from support import daily_checks
from support.model_helpers import (
    HOUR,
    MINUTE,
    SECOND,
    T0,
    ev,
    synthetic_events_by_customer,
    view,
)

from journeys.core.config import Config
from journeys.core.model import CustomerJourneys
from journeys.pipelines.runners import make_runner
from journeys.rules import daily_chat_tasks as dct
from journeys.rules.conversations import summarise_conversations
from journeys.rules.journey_builder import build_customer_journeys
from journeys.rules.sessionise import journey_id, split_journeys, unique_events
from journeys.rules.tasks import task_attempts
from journeys.transforms.aggregates import AggregateDaily

CONFIG = Config()

# The two tables as SQL over ConversationSummary / TaskAttempt rows (epoch ms) and the journeys'
# start (journey_starts: journey_id, started_at epoch ms); day = UTC date of the journey's start.
SQL = {
    dct.CHAT_STATS: """
      SELECT CAST(epoch_ms(j.started_at) AS DATE) AS day, count(*) AS conversations,
             count(*) FILTER (WHERE c.bot_messages >= 1 AND c.handoff_at IS NULL AND c.agent_joined_at IS NULL)
               AS bot_contained,
             count(*) FILTER (WHERE c.agent_joined_at IS NOT NULL) AS escalated,
             CAST(count(*) FILTER (WHERE c.agent_joined_at IS NOT NULL) AS DOUBLE) / count(*) AS escalation_rate,
             quantile_cont(c.wait_s, 0.5) AS median_wait_s,
             quantile_cont(c.first_response_s, 0.5) AS median_first_response_s,
             count(*) FILTER (WHERE c.resolution = 'resolved') AS resolved,
             avg(c.csat) AS avg_csat
      FROM conversations c JOIN journey_starts j USING (journey_id) GROUP BY 1""",
    dct.TASK_EFFORT: """
      SELECT CAST(epoch_ms(j.started_at) AS DATE) AS day, a.task, count(*) AS attempts,
             count(*) FILTER (WHERE a.completed) AS completions,
             CAST(count(*) FILTER (WHERE a.completed) AS DOUBLE) / count(*) AS completion_rate,
             quantile_cont(a.duration_s, 0.5) FILTER (WHERE a.completed) AS median_duration_s,
             CAST(count(*) FILTER (WHERE a.had_friction) AS DOUBLE) / count(*) AS friction_rate,
             avg(a.effort_score) AS avg_effort_score
      FROM task_attempts a JOIN journey_starts j USING (journey_id) GROUP BY 1, 2""",
}
_SCHEMAS = {
    "journey_starts": pa.schema([("journey_id", pa.string()), ("started_at", pa.int64())]),
    "conversations": pa.schema([("journey_id", pa.string()), ("customer_id", pa.string()),
                                ("conversation_id", pa.string()), ("started_at", pa.int64()),
                                ("bot_messages", pa.int64()), ("handoff_at", pa.int64()),
                                ("agent_joined_at", pa.int64()), ("first_response_s", pa.float64()),
                                ("wait_s", pa.float64()), ("resolution", pa.string()), ("csat", pa.float64())]),
    "task_attempts": pa.schema([("journey_id", pa.string()), ("customer_id", pa.string()), ("task", pa.string()),
                                ("started_at", pa.int64()), ("completed", pa.bool_()),
                                ("duration_s", pa.float64()), ("had_friction", pa.bool_()),
                                ("effort_score", pa.int64())]),
}


def chat_tasks_of(customer_id, events):
    """What the pipeline will produce per customer: build_customer_journeys, then per journey its summaries."""
    built = build_customer_journeys(customer_id, events, CONFIG)
    conversations, attempts = [], []
    splits = split_journeys(unique_events(events), CONFIG.journey)
    for journey_events, journey in zip(splits, built.journeys, strict=True):
        assert journey_id(customer_id, journey_events[0]) == journey.journey_id
        conversations += summarise_conversations(journey_events, journey.journey_id, journey.customer_id)
        attempts += task_attempts(journey_events, journey, built.friction)
    return CustomerJourneys(built.journeys, [], [], customer_id, (), conversations, attempts)


def sql_tables(customers):
    con = duckdb.connect()
    con.execute("SET TimeZone = 'Pacific/Kiritimati'")  # a local-time day would be wrong
    rows = {"journey_starts": [{"journey_id": j.journey_id, "started_at": j.started_at}
                               for c in customers for j in c.journeys],
            "conversations": [s._asdict() for c in customers for s in c.conversations],
            "task_attempts": [a._asdict() for c in customers for a in c.task_attempts]}
    for name, items in rows.items():
        con.register(name, pa.Table.from_pylist(items, schema=_SCHEMAS[name]))
    return daily_checks.query_rows(con, SQL)


def assert_tables(customers, expected):
    daily_checks.assert_pipeline_tables(customers, expected, "AggregateChatAndTasks" >> AggregateDaily(dct.CHAT_TASK_DAILY), dct)


# --- a hand-worked case ------------------------------------------------------

def hand_customers():
    h = 2 * HOUR
    a = [view("a1", "/offers", -MINUTE, "cookie-a", user_id="cust-a"),  # 23:59 on the 4th: day 2026-01-04
         ev("a2", "conversation_start", 30 * SECOND, "chat-a", user_id="cust-a"),  # after midnight, still the 4th
         ev("a3", "message", 35 * SECOND, "chat-a", sender="bot"),
         ev("a4", "message", 40 * SECOND, "chat-a", sender="customer"),
         ev("a5", "message", 50 * SECOND, "chat-a", sender="bot"),  # first response 10 s
         ev("a6", "conversation_end", 60 * SECOND, "chat-a", resolution="resolved"),
         ev("a7", "csat", 70 * SECOND, "chat-a", csat_score=5),  # bot-contained
         ev("b1", "conversation_start", h, "chat-a", conversation_id="conv-2"),  # a second journey, on the 5th
         ev("b2", "message", h + 5 * SECOND, "chat-a", conversation_id="conv-2", sender="customer", intent="returns"),
         ev("b3", "message", h + 10 * SECOND, "chat-a", conversation_id="conv-2", sender="bot"),  # response 5 s
         ev("b4", "handoff_requested", h + 20 * SECOND, "chat-a", conversation_id="conv-2"),
         ev("b5", "agent_joined", h + 140 * SECOND, "chat-a", conversation_id="conv-2"),  # wait 120 s
         ev("b6", "conversation_end", h + 200 * SECOND, "chat-a", conversation_id="conv-2", resolution="unresolved"),
         ev("b7", "csat", h + 210 * SECOND, "chat-a", conversation_id="conv-2", csat_score=2)]
    b = [ev("c1", "conversation_start", 3 * HOUR, "chat-b", conversation_id="conv-3"),
         ev("c2", "message", 3 * HOUR + SECOND, "chat-b", conversation_id="conv-3", sender="customer",
            intent="agent_request"),
         ev("c3", "handoff_requested", 3 * HOUR + 10 * SECOND, "chat-b", conversation_id="conv-3"),  # no agent
         ev("c4", "conversation_end", 3 * HOUR + 100 * SECOND, "chat-b", conversation_id="conv-3",
            resolution="abandoned")]
    return [chat_tasks_of("cust-a", a), chat_tasks_of("chat-b", b)]


D4, D5 = "2026-01-04", "2026-01-05"


def hand_expected(customers):
    (a1, a2), (b1,) = ([j.effort_score for j in c.journeys] for c in customers)
    assert [j.started_at < T0 for c in customers for j in c.journeys] == [True, False, False]

    def task(day, name, n, done, rate, median, friction, avg_effort):
        return dict(day=day, task=name, attempts=n, completions=done, completion_rate=rate,
                    median_duration_s=median, friction_rate=friction, avg_effort_score=avg_effort)
    return {
        dct.CHAT_STATS: [
            dict(day=D4, conversations=1, bot_contained=1, escalated=0, escalation_rate=0.0, median_wait_s=None,
                 median_first_response_s=10.0, resolved=1, avg_csat=5.0),
            dict(day=D5, conversations=2, bot_contained=0, escalated=1, escalation_rate=0.5, median_wait_s=120.0,
                 median_first_response_s=5.0, resolved=0, avg_csat=2.0),  # conv-3 has no response, no csat
        ],
        dct.TASK_EFFORT: [
            # /offers at 23:59, never bought; channel_switch at the conversation_start after it
            task(D4, "offers", 1, 0, 0.0, None, 1.0, float(a1)),
            # the returns intent at 2h+5s; bot_escalation, long_wait, unresolved_chat after it
            task(D5, "support_ticket", 1, 0, 0.0, None, 1.0, float(a2)),
            # conv-2: handoff 2h+20s -> agent 2h+140s = 120 s; conv-3: agent_request, no agent, abandoned
            task(D5, "live_agent", 2, 1, 0.5, 120.0, 1.0, (a2 + b1) / 2),
        ],
    }


def test_hand_worked_case_summaries():
    a, b = hand_customers()
    assert [len(a.journeys), len(b.journeys)] == [2, 1]
    assert [(s.conversation_id, s.wait_s) for s in a.conversations] == [("conv-1", None), ("conv-2", 120.0)]


def test_the_pure_aggregate_and_the_sql_give_the_hand_worked_rows():
    customers = hand_customers()
    expected = hand_expected(customers)
    got = dct.aggregate(customers)
    sql = sql_tables(customers)
    for table in dct.TABLES:
        daily_checks.rows_equal(table, expected[table], dct)(got[table])
        daily_checks.rows_equal(table, expected[table], dct)([{c: r[c] for c in dct.COLUMNS[table]} for r in sql[table]])


def test_hand_worked_case_through_the_pipeline():
    customers = hand_customers()
    assert_tables(customers, hand_expected(customers))


# --- synthetic data ----------------------------------------------------------

@pytest.fixture(scope="module")
def synthetic_customers():
    return [chat_tasks_of(c, evs) for c, evs in synthetic_events_by_customer(4000, seed=11)]


def test_synthetic_data_through_the_pipeline_equals_sql(synthetic_customers):
    customers = synthetic_customers + hand_customers()
    expected = sql_tables(customers)
    chat, tasks = expected[dct.CHAT_STATS], expected[dct.TASK_EFFORT]
    # the data must exercise what is being compared
    assert len(chat) == 2 and any(r["conversations"] >= 5 and r["median_wait_s"] is not None for r in chat)
    assert any(r["avg_csat"] is not None and r["bot_contained"] > 0 and r["escalated"] > 0 for r in chat)
    assert {r["task"] for r in tasks} >= {"find_info", "manage_account", "offers", "purchase", "self_service",
                                          "support_ticket", "live_agent"}
    assert any(0 < r["completion_rate"] < 1 and 0 < r["friction_rate"] < 1 for r in tasks)
    assert_tables(customers, expected)
    got = dct.aggregate(customers)
    for table in dct.TABLES:
        daily_checks.rows_equal(table, expected[table], dct)(got[table])


def test_the_only_shuffles_are_the_two_combines():
    p = beam.Pipeline(runner=make_runner())
    _ = p | beam.Create(hand_customers()) | "AggregateChatAndTasks" >> AggregateDaily(dct.CHAT_TASK_DAILY)
    daily_checks.assert_only_shuffles_are_combines(p, "AggregateChatAndTasks", ("CombineChatStats", "CombineTaskEffort"))


def test_rows_fit_the_0004_ddl(synthetic_customers):
    """Rows insert into 0001-0004 applied in order to an in-memory DuckDB; keys unique (INSERT, not upsert)."""
    con = duckdb.connect()
    folder = resources.files("journeys.schemas").joinpath("migrations")
    names = sorted(f.name for f in folder.iterdir() if f.name.endswith(".sql") and f.name[:4] <= "0004")
    assert names[-1] == "0004_chat_task_daily.sql"
    for name in names:
        con.execute(folder.joinpath(name).read_text())
    for table, rows in dct.aggregate(synthetic_customers + hand_customers()).items():
        columns = dct.COLUMNS[table]
        con.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                        [tuple(r[c] for c in columns) for r in rows])
        assert con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == len(rows) > 0
