"""The daily aggregates as SQL over the warehouse's row-level tables: the definition the pipeline must equal."""
from journeys.rules import daily

# The aggregates as SQL over the warehouse's row-level tables (schemas/migrations):
# the definition AggregateDaily must equal. day is the UTC date of the journey's start,
# whatever the session's TimeZone (timestamps are TIMESTAMPTZ).
SQL = {
    daily.PAGE_STATS: """
      WITH jd AS (SELECT journey_id, bounced, CAST(timezone('UTC', started_at) AS DATE) AS day FROM journeys),
      v AS (
        SELECT jd.day, pv.channel, pv.page, count(*) AS views, count(DISTINCT pv.journey_id) AS journeys,
               avg(pv.time_on_page_s) AS avg_time_on_page_s,
               quantile_cont(pv.time_on_page_s, 0.5) AS median_time_on_page_s,
               quantile_cont(pv.time_on_page_s, 0.9) AS p90_time_on_page_s,
               count(*) FILTER (WHERE pv.is_exit) AS exits,
               count(*) FILTER (WHERE pv.is_entry AND jd.bounced) AS bounces
        FROM page_views pv JOIN jd USING (journey_id) GROUP BY 1, 2, 3),
      f AS (
        SELECT jd.day, fe.channel, fe.page, count(*) AS friction_events
        FROM friction_events fe JOIN jd USING (journey_id) WHERE fe.page IS NOT NULL GROUP BY 1, 2, 3)
      SELECT coalesce(v.day, f.day) AS day, coalesce(v.channel, f.channel) AS channel,
             coalesce(v.page, f.page) AS page, coalesce(v.views, 0) AS views, coalesce(v.journeys, 0) AS journeys,
             v.avg_time_on_page_s, v.median_time_on_page_s, v.p90_time_on_page_s,
             coalesce(v.exits, 0) AS exits, coalesce(v.bounces, 0) AS bounces,
             coalesce(f.friction_events, 0) AS friction_events
      FROM v FULL OUTER JOIN f ON v.day = f.day AND v.channel = f.channel AND v.page IS NOT DISTINCT FROM f.page""",
    daily.FRICTION: """
      SELECT CAST(timezone('UTC', j.started_at) AS DATE) AS day, fe.friction_type, fe.page,
             count(*) AS occurrences, count(DISTINCT fe.journey_id) AS journeys
      FROM friction_events fe JOIN journeys j USING (journey_id) GROUP BY 1, 2, 3""",
    daily.JOURNEY_STATS: """
      SELECT CAST(timezone('UTC', started_at) AS DATE) AS day, acquisition_channel, count(*) AS journeys,
             count(*) FILTER (WHERE converted) AS converted, count(*) FILTER (WHERE escalated) AS escalated,
             count(*) FILTER (WHERE bounced) AS bounced, avg(duration_s) AS avg_duration_s,
             avg(friction_score) AS avg_friction_score, avg(effort_score) AS avg_effort_score
      FROM journeys GROUP BY 1, 2""",
    daily.PATH_EDGES: """
      WITH steps AS (
        SELECT journey_id, page AS from_page, lead(page) OVER (PARTITION BY journey_id ORDER BY seq) AS to_page
        FROM page_views)
      SELECT CAST(timezone('UTC', j.started_at) AS DATE) AS day, s.from_page, s.to_page, count(*) AS transitions
      FROM steps s JOIN journeys j USING (journey_id) WHERE s.to_page IS NOT NULL GROUP BY 1, 2, 3""",
}
