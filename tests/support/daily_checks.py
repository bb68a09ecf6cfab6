"""assert_that matchers shared by the daily aggregate tests."""
import math


def same_value(got, want):
    """Ints exactly (and of type int), floats within 1e-12, NULLs only with NULLs."""
    if want is None or got is None:
        return got is None and want is None
    if isinstance(want, int) and not isinstance(want, bool):
        return type(got) is int and got == want
    return isinstance(got, float) and math.isclose(got, want, rel_tol=1e-12, abs_tol=1e-9)


def rows_equal(table, expected, tables):
    """The same keys, exactly the table's columns, measures equal; ``tables`` gives KEYS, COLUMNS, MEASURES."""
    keys = tables.KEYS[table]
    want = {tuple(r[c] for c in keys): r for r in expected}

    def check(actual):
        actual = list(actual)
        got = {tuple(r[c] for c in keys): r for r in actual}
        assert len(got) == len(actual), f"{table}: duplicate keys"
        assert set(got) == set(want), f"{table}: keys differ: {sorted(set(got) ^ set(want))[:5]}"
        for key, w in want.items():
            g = got[key]
            assert tuple(g) == tables.COLUMNS[table], (table, tuple(g))
            bad = {c: (g[c], w[c]) for c in tables.MEASURES[table] if not same_value(g[c], w[c])}
            assert not bad, (table, key, bad)
    return check


def query_rows(con, queries):
    """{table: [row dict]} from one SQL query per table; ``day`` (the first column) as ISO text."""
    out = {}
    for table, query in queries.items():
        cursor = con.execute(query)
        names = [d[0] for d in cursor.description]
        out[table] = [dict(zip(names, (row[0].isoformat(),) + row[1:])) for row in cursor.fetchall()]
    return out


def assert_pipeline_tables(customers, expected, aggregate, tables):
    """Runs ``aggregate`` (a composite) over ``customers`` and checks every table of ``tables``."""
    import apache_beam as beam
    from apache_beam.testing.test_pipeline import TestPipeline
    from apache_beam.testing.util import assert_that

    from journeys.pipelines.runners import make_runner

    with TestPipeline(runner=make_runner()) as p:
        out = p | beam.Create(customers) | aggregate
        for table in tables.TABLES:
            assert_that(getattr(out, table), rows_equal(table, expected[table], tables), label=f"Check_{table}")


def assert_only_shuffles_are_combines(pipeline, prefix, expected_combines):
    """Inside the composite ``prefix``, every shuffle belongs to one of ``expected_combines``,
    and each is a combine_per_key, which runners lift (partial combines before the shuffle)."""
    from apache_beam.pipeline import PipelineVisitor

    seen = []

    class Collect(PipelineVisitor):
        def enter_composite_transform(self, node):
            seen.append((node.full_label, type(node.transform).__name__))

        def visit_transform(self, node):
            seen.append((node.full_label, type(node.transform).__name__))

    pipeline.visit(Collect())
    seen = [(label, kind) for label, kind in seen if label.startswith(prefix + "/")]
    combines = sorted(label for label, kind in seen if kind == "CombinePerKey")
    assert combines == sorted(f"{prefix}/{name}" for name in expected_combines)
    shuffles = [label for label, kind in seen if kind in ("GroupByKey", "_GroupByKeyOnly", "Reshuffle")]
    assert shuffles and all(any(label.startswith(c + "/") for c in combines) for label in shuffles), shuffles
    urns = {t.unique_name: t.spec.urn for t in pipeline.to_runner_api().components.transforms.values()}
    assert all(urns[c] == "beam:transform:combine_per_key:v1" for c in combines)
