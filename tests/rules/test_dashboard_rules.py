"""Pure parts of the dashboard: JSON safe inside <script>, distinct-count sketches, the funnel's SQL."""
import json
import math

from journeys.commands.dashboard_data import funnel_sql, hll_sketch, time_bin_labels, time_bin_sql
from journeys.commands.dashboard_page import script_json
from journeys.core.config import FunnelStep


def test_script_json_cannot_close_the_script_element():
    hostile = {"page": "</script><script>alert(1)</script><!-- \u2028\u2029 & <img src=x onerror=alert(1)>"}
    text = script_json(hostile)
    for raw in ("<", ">", "&", "\u2028", "\u2029"):
        assert raw not in text
    assert json.loads(text) == hostile


def hll_estimate(registers):
    """The page's estimate (dashboard.js customers()), to check the sketch."""
    m = len(registers)
    raw = (0.7213 / (1 + 1.079 / m)) * m * m / sum(2.0 ** -v for v in registers)
    zeros = registers.count(0)
    return m * math.log(m / zeros) if raw <= 2.5 * m and zeros else raw


def test_sketches_count_distinct_customers_within_a_few_per_cent():
    for n in (10, 1_000, 50_000):
        estimate = hll_estimate(hll_sketch(f"customer-{i}" for i in range(n)))
        assert abs(estimate - n) <= max(1, 0.06 * n), (n, estimate)
    merged = bytearray(max(a, b) for a, b in zip(hll_sketch(["a", "b"]), hll_sketch(["b", "c"])))
    assert round(hll_estimate(merged)) == 3


def test_funnel_sql_has_one_chained_step_per_configured_step():
    steps = (FunnelStep("a", pages=("/products/*", "/"), screens=("home",)), FunnelStep("b", events=("purchase",)))
    sql, params = funnel_sql(steps, "%s")
    assert params == ["/products/", "/", "home", "purchase"]
    assert "substr(p.page, 1, 10) = %s" in sql and "s2 AS" in sql and "s3 AS" not in sql


def test_time_bins_cover_every_value():
    assert time_bin_sql("t", (0, 5, 10)) == "CASE WHEN t < 5 THEN 0 WHEN t < 10 THEN 1 ELSE 2 END"
    assert time_bin_labels((0, 5, 10)) == ["0-5 s", "5-10 s", "10+ s"]
