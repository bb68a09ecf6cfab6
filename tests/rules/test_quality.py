"""Quality suites (Great Expectations), policies, aggregates, volume and freshness checks."""
from __future__ import annotations

import json

import pytest
from support.quality_events import DAY, STRICT_POLICY, T0, event, params

from journeys import quality
from journeys.quality import FAIL, QUARANTINE, REPORT, Policy, QualityFailure
from journeys.warehouses import warehouse_for
from journeys.warehouses.quality_runs import recent_volume_counts

# -- suites and policy files --------------------------------------------------------

def test_suites_load_from_their_json_files():
    events = quality.load_suite("events")
    raw = json.loads((quality.quality_dir() / "events.json").read_text())
    assert events.name == "events"
    assert [e.expectation_type for e in events.expectations] == [e["type"] for e in raw["expectations"]]
    keys = {quality.expectation_key(e.configuration) for e in events.expectations}
    assert {"expect_column_values_to_not_be_null:event_id", "expect_column_values_to_be_in_set:channel",
            "expect_column_values_to_be_in_set:event_type", "expect_column_values_to_be_between:event_time",
            "expect_column_values_to_be_unique:event_id", "expect_column_values_to_be_between:csat_score",
            "expect_column_values_to_be_between:x", "expect_column_values_to_be_between:y",
            "expect_column_values_to_be_between:revenue",
            "expect_column_values_to_be_between:search_results"} <= keys
    aggregates = quality.load_suite("aggregates")
    tables = set(quality.split_suite(aggregates))
    assert {"journeys", "page_views", "page_stats_daily", "journey_stats_daily", "chat_stats_daily",
            "task_effort_daily", "day_totals", "run_totals"} <= tables


def test_event_type_sets_in_the_suite_are_the_contracts():
    from journeys.core.events import EVENT_TYPES

    suite = json.loads((quality.quality_dir() / "events.json").read_text())
    sets = {e["meta"]["channel"]: set(e["kwargs"]["value_set"]) for e in suite["expectations"]
            if e["type"] == "expect_column_values_to_be_in_set" and e["kwargs"]["column"] == "event_type"}
    assert sets == {channel: set(types) for channel, types in EVENT_TYPES.items()}


def test_policy_file_and_precedence():
    policy = Policy.load()
    # By default only contract section 4's bad input is quarantined; every other expectation reports.
    for key in ("expect_column_values_to_be_between:csat_score", "expect_column_values_to_be_between:x",
                "expect_column_values_to_be_between:y", "expect_column_values_to_be_between:revenue",
                "expect_column_values_to_be_between:search_results", "expect_column_values_to_be_unique:event_id",
                "expect_column_values_to_be_in_set:event_type"):
        assert policy.for_key("events", key) == REPORT, key
    for key in ("expect_column_values_to_not_be_null:event_id", "expect_column_values_to_not_be_null:event_type",
                "expect_column_values_to_not_be_null:channel", "expect_column_values_to_not_be_null:event_time",
                "expect_column_values_to_not_be_null:anonymous_id",
                "expect_column_values_to_not_be_null:conversation_id",
                "expect_column_values_to_be_in_set:channel", "expect_column_values_to_be_between:event_time"):
        assert policy.for_key("events", key) == QUARANTINE, key
    # An event's csat_score outside 1-5 is kept, so the average CSAT it makes reports too.
    assert policy.for_key("aggregates", "expect_column_values_to_be_between:avg_csat") == REPORT
    assert Policy.load(STRICT_POLICY).for_key("events", "expect_column_values_to_be_between:csat_score") == QUARANTINE
    assert policy.for_key("aggregates", "expect_column_values_to_be_between:duration_s") == FAIL
    assert policy.for_key("aggregates", "expect_column_values_to_be_between:engaged_minus_time_on_page_s") == REPORT
    assert policy.check("volume")["policy"] == REPORT
    custom = Policy(suites={"events": {"default": QUARANTINE, "expectations": {
        "expect_column_values_to_be_between": FAIL, "expect_column_values_to_be_between:x": REPORT}}})
    assert custom.for_key("events", "expect_column_values_to_be_between:x") == REPORT
    assert custom.for_key("events", "expect_column_values_to_be_between:y") == FAIL
    assert custom.for_key("events", "expect_column_values_to_be_in_set:channel") == QUARANTINE
    assert custom.for_key("unknown", "anything:x") == FAIL
    with pytest.raises(ValueError):
        Policy(suites={"aggregates": {"default": QUARANTINE}})
    with pytest.raises(ValueError):
        Policy(suites={"events": {"default": "ignore"}})


# -- event batches -------------------------------------------------------------------

def test_implausible_events_are_quarantined_with_their_reasons():
    batch = [event(1), event(2, "click", x=5, y=7),
             event(3, "csat", "chat", csat_score=9),
             event(4, "purchase", revenue=-10.0, order_id="o1"),
             event(5, "tap"),  # an app event type on web: reported, not quarantined (policy "report")
             event(6, event_time=T0 + 10 * 86_400_000),  # after the max bound
             event(7, "search", search_results=-1),
             event(8, "csat", "chat", csat_score=5)]
    kept, dead, result = quality.check_events(batch, policy=Policy.load(STRICT_POLICY), parameters=params())
    assert [e.offset for e in kept] == [1, 2, 5, 8]
    assert {d.offset: d.reason for d in dead} == {
        3: "quality:expect_column_values_to_be_between:csat_score",
        4: "quality:expect_column_values_to_be_between:revenue",
        6: "quality:expect_column_values_to_be_between:event_time",
        7: "quality:expect_column_values_to_be_between:search_results"}
    # five expectations failed; the unknown event type is in the results but its event is kept
    assert not result.success and result.failed == 5 and result.details["quarantined"] == 4
    reported = [e for e in result.details["expectations"] if not e["success"] and e["policy"] == "report"]
    assert [e["key"] for e in reported] == ["expect_column_values_to_be_in_set:event_type"]
    payload = json.loads(dead[0].payload)
    assert payload["event_id"] == "e3" and payload["message_text"] is None
    assert dead[0].received_at.startswith("2023-11-14T22:13:20")


def test_a_clean_batch_passes():
    kept, dead, result = quality.check_events([event(i) for i in range(20)], parameters=params())
    assert len(kept) == 20 and dead == [] and result.success and result.failed == 0
    assert result.evaluated == len(quality.load_suite("events").expectations)


def test_fail_policy_raises():
    policy = Policy(suites={"events": {"default": QUARANTINE,
                                       "expectations": {"expect_column_values_to_be_between:csat_score": FAIL}}})
    with pytest.raises(QualityFailure, match="csat_score"):
        quality.check_events([event(1, "csat", "chat", csat_score=9)], policy=policy, parameters=params())
    # A report policy keeps the row and records the failure.
    report = Policy(suites={"events": {"default": REPORT}})
    kept, dead, result = quality.check_events([event(1, "csat", "chat", csat_score=9)], policy=report,
                                              parameters=params())
    assert len(kept) == 1 and dead == [] and not result.success


def test_duplicates_in_a_batch_keep_the_first_copy():
    batch = [event(9, event_id="same"), event(3, event_id="same"), event(4)]
    kept, dead, _ = quality.check_events(batch, policy=Policy.load(STRICT_POLICY), parameters=params())
    assert [(e.event_id, e.offset) for e in kept] == [("same", 3), ("e4", 4)]
    assert [(d.offset, d.reason) for d in dead] == [(9, "quality:expect_column_values_to_be_unique:event_id")]


def test_the_default_policy_keeps_implausible_values_and_reports_them():
    batch = [event(1), event(2, "click", x=-1, y=7), event(3, "csat", "chat", csat_score=7),
             event(4, "purchase", revenue=-5.0, order_id="o1"), event(5, "search", search_results=-1),
             event(6, "tap"), event(7, event_id="e1")]
    kept, dead, result = quality.check_events(batch, parameters=params())
    assert [e.offset for e in kept] == [1, 2, 3, 4, 5, 6, 7] and dead == []
    failed = {e["key"]: e["policy"] for e in result.details["expectations"] if not e["success"]}
    assert failed == {"expect_column_values_to_be_between:x": REPORT,
                      "expect_column_values_to_be_between:csat_score": REPORT,
                      "expect_column_values_to_be_between:revenue": REPORT,
                      "expect_column_values_to_be_between:search_results": REPORT,
                      "expect_column_values_to_be_in_set:event_type": REPORT,
                      "expect_column_values_to_be_unique:event_id": REPORT}
    assert not result.success and result.details["quarantined"] == 0


def test_event_time_bounds_come_from_parameters():
    kept, dead, _ = quality.check_events([event(1)], parameters=params(min_event_time_ms=T0 + 100))
    assert kept == [] and dead[0].reason.endswith("event_time")


# -- aggregates -------------------------------------------------------------------------

def run_tables(**over):
    journey = {"journey_id": "j1", "customer_id": "c1", "started_at": T0, "ended_at": T0 + 60_000,
               "duration_s": 60.0, "event_count": 4, "page_view_count": 2, "friction_count": 0,
               "friction_score": 0.0, "effort_score": 1, "engaged_time_s": 15.0, "acquisition_channel": "direct"}
    views = [{"journey_id": "j1", "customer_id": "c1", "channel": "web", "page": "/a", "viewed_at": T0, "seq": 1,
              "time_on_page_s": 30.0, "engaged_time_s": 15.0},
             {"journey_id": "j1", "customer_id": "c1", "channel": "web", "page": "/b", "viewed_at": T0 + 30_000,
              "seq": 2, "time_on_page_s": None, "engaged_time_s": 0.0}]
    tables = {
        "journeys": [journey], "page_views": views,
        "journey_stats_daily": [{"day": DAY, "acquisition_channel": "direct", "journeys": 1, "converted": 0,
                                 "escalated": 0, "bounced": 0, "avg_duration_s": 60.0, "avg_friction_score": 0.0,
                                 "avg_effort_score": 1.0}],
        "page_stats_daily": [{"day": DAY, "channel": "web", "page": p, "views": 1, "journeys": 1,
                              "avg_time_on_page_s": t, "median_time_on_page_s": t, "p90_time_on_page_s": t,
                              "exits": 0, "bounces": 0, "friction_events": 0} for p, t in (("/a", 30.0), ("/b", None))],
        "chat_stats_daily": [{"day": DAY, "conversations": 0, "bot_contained": 0, "escalated": 0,
                              "escalation_rate": None, "median_wait_s": None, "median_first_response_s": None,
                              "resolved": 0, "avg_csat": None}],
        "task_effort_daily": [{"day": DAY, "task": "purchase", "attempts": 2, "completions": 1,
                               "completion_rate": 0.5, "median_duration_s": 20.0, "friction_rate": 0.0,
                               "avg_effort_score": 1.0}],
        "touched_days": [{"day": DAY}], "customers": [{"customer_id": "c1", "devices": ["anon-1"]}],
    }
    tables.update(over)
    return tables


def test_consistent_aggregates_pass():
    result = quality.check_aggregates(run_tables())
    assert result.success and result.failed == 0 and result.evaluated > 30


def test_negative_duration_or_rate_above_one_raises():
    bad = run_tables()
    bad["journeys"][0]["duration_s"] = -1.0
    with pytest.raises(QualityFailure, match="duration_s"):
        quality.check_aggregates(bad)
    bad = run_tables()
    bad["task_effort_daily"][0]["completion_rate"] = 1.5
    with pytest.raises(QualityFailure, match="completion_rate"):
        quality.check_aggregates(bad)


def test_journey_counts_must_agree_across_tables():
    tables = run_tables()
    tables["journey_stats_daily"][0]["journeys"] = 2
    with pytest.raises(QualityFailure, match="journeys_rows,journeys_daily"):
        quality.check_aggregates(tables)
    # ... unless the other journey of that day is already stored (an incremental run).
    assert quality.check_aggregates(tables, stored={DAY: (1, 0)}).success
    result = quality.check_aggregates(tables, stored={DAY: (1, 1)}, raise_on_fail=False)  # a stored view too
    assert [e["key"] for e in result.details["expectations"] if not e["success"]] == [
        "expect_column_pair_values_to_be_equal:page_view_rows,page_views_daily"]
    tables = run_tables()
    tables["journeys"][0]["page_view_count"] = 3
    with pytest.raises(QualityFailure, match="page_view_count_sum,page_view_rows"):
        quality.check_aggregates(tables)


def test_engaged_time_far_above_time_on_page_is_reported_not_fatal():
    tables = run_tables()
    tables["page_views"][0]["engaged_time_s"] = 14.0 + 30.0  # within heartbeat + min visit (15 s): fine
    assert quality.check_aggregates(tables).success
    tables["page_views"][0]["engaged_time_s"] = 46.0
    result = quality.check_aggregates(tables)  # policy report: no raise
    failed = [e for e in result.details["expectations"] if not e["success"]]
    assert [(e["key"], e["policy"], e["table"]) for e in failed] == [
        ("expect_column_values_to_be_between:engaged_minus_time_on_page_s", REPORT, "page_views")]


def test_empty_run_passes():
    assert quality.check_aggregates({}).success


# -- volume and freshness ---------------------------------------------------------------

def test_volume_drop_below_half_the_recent_mean_fails():
    history = [{"web": 1000, "app": 400, "chat": 100}] * 7
    ok = quality.volume_check({"web": 900, "app": 300, "chat": 60}, history)
    assert ok.success and ok.evaluated == 3
    dropped = quality.volume_check({"web": 900, "app": 150}, history)
    assert not dropped.success and dropped.failed == 2
    assert {e["key"] for e in dropped.details["expectations"] if not e["success"]} == {"volume:app", "volume:chat"}
    assert quality.volume_check({"web": 10}, history[:2]).success  # too little history to judge
    assert not quality.volume_check({"web": 600}, history, min_ratio=0.7).success
    # Only the last `window` runs count.
    assert quality.volume_check({"web": 100}, [{"web": 10_000}] * 3 + [{"web": 100}] * 7).success


def test_freshness():
    assert quality.freshness_check(T0, T0 + 60_000, max_age_s=3600).success
    stale = quality.freshness_check(T0, T0 + 7_200_000, max_age_s=3600)
    assert not stale.success and stale.details["expectations"][0]["age_s"] == 7200
    assert not quality.freshness_check(None, T0, max_age_s=3600).success


def test_a_failed_fail_check_raises_through_enforce():
    result = quality.volume_check({"web": 1}, [{"web": 100}] * 7, policy=FAIL)
    with pytest.raises(QualityFailure):
        quality.enforce([quality.freshness_check(T0, T0, 60), result])


# -- quality_runs rows and the table -------------------------------------------------------

def test_quality_runs_rows_land_in_the_migrated_table(tmp_path):
    warehouse = warehouse_for(f"duckdb:{tmp_path / 'w.duckdb'}")
    warehouse.migrate()
    _, _, result = quality.check_events([event(1, "csat", "chat", csat_score=9)], parameters=params())
    rows = [quality.quality_run_row("run-1", "events", result, checked_at=T0),
            quality.quality_run_row("run-1", "volume", quality.volume_check({"web": 5, "app": 2}, []), T0),
            quality.quality_run_row("run-2", "volume", quality.volume_check({"web": 7}, []), T0 + 1000)]
    assert rows[0]["checked_at"] == "2023-11-14T22:13:20+00:00"
    con = warehouse.connect()
    cursor = con.cursor()
    for row in rows:
        cursor.execute("INSERT INTO quality_runs VALUES (?, ?, ?, ?, ?, ?, ?)",
                       [row["run_id"], row["suite"], row["checked_at"], row["success"], row["evaluated"],
                        row["failed"], json.dumps(row["details"])])
    con.commit()
    cursor.execute("SELECT run_id, suite, success, evaluated, failed FROM quality_runs ORDER BY run_id, suite")
    assert cursor.fetchall() == [("run-1", "events", False, rows[0]["evaluated"], 1),
                                 ("run-1", "volume", True, 2, 0), ("run-2", "volume", True, 1, 0)]
    assert recent_volume_counts(con, window=7) == [{"web": 5, "app": 2}, {"web": 7}]
    con.close()


def test_data_docs_page(tmp_path):
    _, _, result = quality.check_events([event(1, "csat", "chat", csat_score=9)], parameters=params())
    page = quality.data_docs(tmp_path / "docs", [result, quality.freshness_check(None, T0, 60)], run_id="run-1")
    text = page.read_text()
    assert "expect_column_values_to_be_between:csat_score" in text and "FAILED" in text and "freshness" in text
