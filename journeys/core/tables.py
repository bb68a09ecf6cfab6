"""Every warehouse table the pipeline writes: its name, key, columns and time columns, in one place.

The migrations (``schemas/migrations``) create these tables; a test checks
that each table's primary key there is the key here. The landing upserts on
these keys, the daily aggregates group by them, and the BigQuery MERGE script
matches on them, except for the tables that belong to a journey: those are
replaced with their journey (children first, the ``journeys`` row last).
"""
from __future__ import annotations

from typing import NamedTuple


class Table(NamedTuple):
    name: str
    key: tuple[str, ...]  # the primary key
    measures: tuple[str, ...] = ()  # daily tables: the columns computed per key
    time_columns: tuple[str, ...] = ()  # epoch ms or ISO-8601 in run files, TIMESTAMPTZ in the warehouse

    @property
    def columns(self) -> tuple[str, ...]:
        """A daily table's columns in order: key, then measures."""
        return self.key + self.measures


EVENTS = Table("events", ("event_id",), time_columns=("event_time",))
DEAD_LETTERS = Table("dead_letters", ("source", "partition", "offset"), time_columns=("received_at",))
QUALITY_RUNS = Table("quality_runs", ("run_id", "suite"), time_columns=("checked_at",))
CUSTOMER_DEVICES = Table("customer_devices", ("anonymous_id",))

JOURNEYS = Table("journeys", ("journey_id",), time_columns=("started_at", "ended_at"))
PAGE_VIEWS = Table("page_views", ("journey_id", "seq"), time_columns=("viewed_at",))
FRICTION_EVENTS = Table("friction_events", ("journey_id", "friction_type", "event_id"), time_columns=("occurred_at",))
CONVERSATIONS = Table("conversations", ("journey_id", "conversation_id"),
                      time_columns=("started_at", "handoff_at", "agent_joined_at"))
TASK_ATTEMPTS = Table("task_attempts", ("journey_id", "task"), time_columns=("started_at",))

PAGE_STATS_DAILY = Table(
    "page_stats_daily", ("day", "channel", "page"),
    ("views", "journeys", "avg_time_on_page_s", "median_time_on_page_s", "p90_time_on_page_s",
     "exits", "bounces", "friction_events"))
FRICTION_DAILY = Table("friction_daily", ("day", "friction_type", "page"), ("occurrences", "journeys"))
JOURNEY_STATS_DAILY = Table(
    "journey_stats_daily", ("day", "acquisition_channel"),
    ("journeys", "converted", "escalated", "bounced", "avg_duration_s", "avg_friction_score", "avg_effort_score"))
PATH_EDGES_DAILY = Table("path_edges_daily", ("day", "from_page", "to_page"), ("transitions",))
CHAT_STATS_DAILY = Table(
    "chat_stats_daily", ("day",),
    ("conversations", "bot_contained", "escalated", "escalation_rate", "median_wait_s",
     "median_first_response_s", "resolved", "avg_csat"))
TASK_EFFORT_DAILY = Table(
    "task_effort_daily", ("day", "task"),
    ("attempts", "completions", "completion_rate", "median_duration_s", "friction_rate", "avg_effort_score"))

DAILY_TABLES: tuple[Table, ...] = (PAGE_STATS_DAILY, FRICTION_DAILY, JOURNEY_STATS_DAILY, PATH_EDGES_DAILY,
                                   CHAT_STATS_DAILY, TASK_EFFORT_DAILY)
# Rows that belong to a journey, replaced with it: children before the journey itself.
JOURNEY_TABLES: tuple[Table, ...] = (FRICTION_EVENTS, PAGE_VIEWS, CONVERSATIONS, TASK_ATTEMPTS, JOURNEYS)
# Upserted on their key, in landing order; an event already stored was read first (first wins).
KEYED_TABLES: tuple[Table, ...] = (EVENTS, DEAD_LETTERS, *DAILY_TABLES, QUALITY_RUNS)
FIRST_WINS = frozenset({EVENTS.name})

# The migrations' own bookkeeping, keyed like the rest.
SCHEMA_MIGRATIONS = Table("journeys_schema_migrations", ("version",), time_columns=("applied_at",))

# Days whose daily rows wait to be recomputed from the stored journeys (pipelines/daily_settle.py).
PENDING_DAYS = Table("pending_days", ("day",))

ALL_TABLES: tuple[Table, ...] = (*KEYED_TABLES, CUSTOMER_DEVICES, *JOURNEY_TABLES, PENDING_DAYS, SCHEMA_MIGRATIONS)
BY_NAME: dict[str, Table] = {t.name: t for t in ALL_TABLES}
TIME_COLUMNS = frozenset(c for t in ALL_TABLES for c in t.time_columns)
