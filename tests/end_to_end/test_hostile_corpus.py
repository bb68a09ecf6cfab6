"""A hostile corpus through `run` into DuckDB and PostgreSQL, then `report`, `report --html`, `quality --html`.

tests/scenarios/hostile.jsonl holds forged events (lone surrogates, NUL,
NaN, huge ints, markup, scripts, terminal escapes, bidi overrides),
personal data in every free-text field (e-mails, national and international
phones, URL-encoded e-mails and `+`-separated phones in URLs and referrers,
Luhn-valid cards in titles, ids and properties) and raw lines that are not
UTF-8 or not text. Every line must become one event, duplicate or dead
letter; with user_id pseudonyms on (the corpus has e-mails as user ids), no table cell and no output file may hold the personal data, plain
or URL-encoded; no HTML page may hold anything live from an event.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import quote, unquote_plus

import duckdb
import psycopg
import pytest
from support.html_live import live_from_data, live_in_folder


from journeys.commands.cli import main

pytestmark = [pytest.mark.slow]
CORPUS = Path(__file__).resolve().parents[1] / "scenarios" / "hostile.jsonl"
# What the corpus's personal data looks like in any spelling that would identify someone.
NEEDLES = ("victim.person", "555-0100", "555 0100", "5550100", "555+0100", "555%200100", "7946 0958", "79460958",
           "7946+0958", "4111111111111111", "4111 1111 1111 1111", "4111-1111-1111-1111")
SUMMARY = re.compile(r"input (\d+) = processed (\d+) \+ duplicates (\d+) \+ dead letters (\d+) \(ok\)")


def personal_data_in(text: str) -> list[str]:
    forms = {text, unquote_plus(text), unquote_plus(unquote_plus(text))}
    return sorted({needle for needle in NEEDLES for form in forms if needle in form})


def run(capsys, source: str, warehouse: str, output_dir: Path) -> tuple[int, ...]:
    capsys.readouterr()
    assert main(["run", "--source", f"file:{source}", "--warehouse", warehouse, "--output-dir", str(output_dir),
                 "--config", "journeys.toml"]) == 0
    match = SUMMARY.search(capsys.readouterr().out)
    assert match, "no balanced summary line"
    return tuple(int(n) for n in match.groups())


def cells_of(cursor, tables) -> list[tuple[str, str]]:
    found = []
    for table in tables:
        cursor.execute(f'SELECT * FROM "{table}"')
        for row in cursor.fetchall():
            for cell in row:
                text = cell if isinstance(cell, str) else json.dumps(cell, default=str)
                found += [(table, needle) for needle in personal_data_in(text)]
    return found


def files_holding_personal_data(folder: Path) -> dict[str, list[str]]:
    found = {}
    for path in Path(folder).rglob("*"):
        if path.is_file():
            needles = personal_data_in(path.read_bytes().decode("utf-8", errors="replace"))
            if needles:
                found[str(path)] = needles
    return found


def test_the_hostile_corpus_lands_masked_and_inert(tmp_path, capsys, monkeypatch, pg_schema):
    lines = len(CORPUS.read_bytes().splitlines())
    work = tmp_path / "work"
    work.mkdir()
    (work / "hostile.jsonl").write_bytes(CORPUS.read_bytes())
    monkeypatch.chdir(work)
    # A user_id is an identifier, not free text, so masking keeps it; some sites use e-mail addresses as
    # user ids (the corpus does): pseudonyms are the defence for those (README, Personal data).
    (work / "journeys.toml").write_text("[masking]\npseudonymise_user_id = true\n")
    monkeypatch.setenv("JOURNEYS_PSEUDONYM_KEY", "a test key, not a secret")
    duck = f"duckdb:{tmp_path / 'w.duckdb'}"
    base_url, schema = pg_schema
    pg = f"{base_url}?options={quote(f'-csearch_path={schema}')}"

    first = run(capsys, str(work / "hostile.jsonl"), duck, tmp_path / "runs")
    total, processed, duplicates, dead = first
    assert total == lines == processed + duplicates + dead
    assert dead >= 10 and duplicates >= 1 and processed >= 30
    # The same file under other spellings is the same source: nothing is added.
    for spelling in ("hostile.jsonl", "./hostile.jsonl", str(work / "." / "hostile.jsonl")):
        assert run(capsys, spelling, duck, tmp_path / "runs")[0] == lines
    assert run(capsys, "hostile.jsonl", pg, tmp_path / "runs-pg") == first

    con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    tables = [t for (t,) in con.execute("SELECT table_name FROM information_schema.tables "
                                        "WHERE table_schema = 'main'").fetchall()]
    assert con.execute("SELECT count(*) FROM events").fetchone()[0] == processed
    assert con.execute("SELECT count(*) FROM dead_letters").fetchone()[0] == dead
    assert cells_of(con.cursor(), tables) == []
    con.close()
    with psycopg.connect(base_url, options=f"-csearch_path={schema}") as conn:
        cursor = conn.cursor()
        cursor.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = %s", [schema])
        pg_tables = [t for (t,) in cursor.fetchall()]
        assert set(tables) <= set(pg_tables)
        cursor.execute("SELECT count(*) FROM events")
        assert cursor.fetchone()[0] == processed
        assert cells_of(cursor, pg_tables) == []

    capsys.readouterr()
    html = tmp_path / "dashboard.html"
    assert main(["report", "--warehouse", duck, "--html", str(html)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\u202e" not in out and personal_data_in(out) == []
    assert main(["report", "--warehouse", pg]) == 0
    assert "\x1b" not in capsys.readouterr().out
    docs = tmp_path / "docs"
    assert main(["quality", "--warehouse", duck, "--html", str(docs)]) in (0, 4)
    assert personal_data_in(capsys.readouterr().out) == []

    assert live_from_data(html.read_text(encoding="utf-8")) == []
    assert live_in_folder(docs) == {}
    for folder in (tmp_path / "runs", tmp_path / "runs-pg", docs, tmp_path / "dashboard.html"):
        found = files_holding_personal_data(folder) if folder.is_dir() else (
            {str(folder): personal_data_in(folder.read_text(encoding="utf-8"))} if personal_data_in(
                folder.read_text(encoding="utf-8")) else {})
        assert found == {}, found
