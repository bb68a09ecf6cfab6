"""The names contract section 3 fixes: every table and its minimum columns."""

# Contract section 3, "minimum columns".
CONTRACT_TABLES = {
    "journeys": "journey_id customer_id started_at ended_at duration_s channels event_count page_view_count "
                "entry_page exit_page acquisition_channel converted escalated resolved bounced friction_count "
                "friction_score effort_score",
    "page_views": "journey_id customer_id channel page viewed_at seq time_on_page_s engaged_time_s is_entry is_exit",
    "friction_events": "journey_id customer_id friction_type channel page occurred_at detail",
    "page_stats_daily": "day channel page views journeys avg_time_on_page_s median_time_on_page_s "
                        "p90_time_on_page_s exits bounces friction_events",
    "friction_daily": "day friction_type page occurrences journeys",
    "journey_stats_daily": "day acquisition_channel journeys converted escalated bounced avg_duration_s "
                           "avg_friction_score avg_effort_score",
    "path_edges_daily": "day from_page to_page transitions",
    "task_effort_daily": "day task attempts completions completion_rate median_duration_s friction_rate "
                         "avg_effort_score",
    "chat_stats_daily": "day conversations bot_contained escalated escalation_rate median_wait_s "
                        "median_first_response_s resolved avg_csat",
    "dead_letters": "source partition offset received_at reason payload",
    "quality_runs": "run_id suite checked_at success evaluated failed details",
}
