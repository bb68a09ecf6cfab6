"""The dashboard's queries are portable: DuckDB and PostgreSQL give the same datasets."""
import json
from urllib.parse import quote

from support.paths import SCENARIOS

from journeys.commands.cli import main
from journeys.commands.dashboard_data import collect_from
from journeys.commands.dashboard_page import page, script_json
from journeys.core.config import DEFAULT_FUNNEL, Config, FunnelStep

SCENARIO = SCENARIOS / "cross_channel.jsonl"


def land(url, tmp_path):
    assert main(["run", "--source", f"file:{SCENARIO}", "--warehouse", url, "--output-dir", str(tmp_path / "runs")]) == 0


def test_duckdb_and_postgresql_give_the_same_dashboard_data(pg_schema, tmp_path):
    base_url, schema = pg_schema
    postgres = f"{base_url}?options={quote(f'-csearch_path={schema}')}"
    duck = f"duckdb:{tmp_path / 'w.duckdb'}"
    for url in (postgres, duck):
        land(url, tmp_path)
    steps = DEFAULT_FUNNEL + (FunnelStep("escalated", events=("agent_joined",)),)
    from_pg, from_duck = (collect_from(url, steps) for url in (postgres, duck))
    assert json.loads(script_json(from_pg)) == json.loads(script_json(from_duck))
    # The hand-worked scenario: 5 journeys, one purchase (ck-Y's, which lands on /a: outside the funnel).
    assert sum(row[2] for row in from_duck["stats"]["rows"]) == 5
    assert sum(row[3] for row in from_duck["funnel"]["rows"]) == 5
    assert {row[2] for row in from_duck["friction"]["rows"]} >= {"/products/42", ""}
    assert from_duck["chat"]["rows"] and from_duck["tasks"]["rows"] and from_duck["edges"]["rows"]
    assert "Customer journeys" in page(from_duck, "/* plotly */", "now")


def test_the_funnel_comes_from_the_config_file(tmp_path):
    path = tmp_path / "journeys.toml"
    path.write_text('[[dashboard.funnel_steps]]\nname = "cart"\npages = ["/cart"]\n'
                    '[[dashboard.funnel_steps]]\nname = "bought"\nevents = ["purchase"]\n')
    steps = Config.load(path).dashboard.funnel_steps
    assert steps == (FunnelStep("cart", pages=("/cart",)), FunnelStep("bought", events=("purchase",)))
    assert Config.load().dashboard.funnel_steps[0].name == "home"
