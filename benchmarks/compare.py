"""Our bounded run next to its ceilings and its textbook alternatives, on the same events.

    python benchmarks/compare.py [--events N] [--simple] [--scaling] [--streaming] [--seed S]
                                 [--step-timeout SECONDS] [--keep]

N events (default 1,000,000; ``--simple``: only web page views, pings and
clicks, else the demo's richer synthetic events) are generated once, dumped to
JSONL and published once to a local Kafka broker (LocalKafka in a temporary
directory, stopped at the end). Then, each timed on those events and printed
as events/s with the load average of the moment:

1. ``journeys run`` bounded from Kafka into DuckDB, as a subprocess, on the
   DirectRunner (the in-process FnApiRunner) with 1 worker, then with 2
   (``-- --direct_num_workers=2 --direct_running_mode=multi_processing``),
   each with a fresh consumer group; the peak RSS of its whole process tree
   (sampled from /proc every 0.2 s). Wall time includes Python start-up and
   the landing into DuckDB: it is what a user waits for.
2. The read ceiling: one kafka-python consumer decoding every message with
   fastavro (journeys.wire.framing.decode) and nothing else.
3. The textbook Beam job on the same runner (a subprocess, 1 worker): JSONL
   dump -> Sessions(30 min) per anonymous_id -> GroupByKey -> time on page
   (next event in the session minus the page view) -> mean per page.
4. DuckDB SQL: read_json of the dump, sessions and time on page with window
   functions (lag/lead, a running sum of session starts), mean per page.
5. ``--streaming``: ``journeys run --streaming`` on embedded Flink, inside a
   private network namespace (unshare; root needed) with its own broker: the
   time from the driver's start until the consumer group committed every
   message. Off by default: Flink start-up dominates at small N.

``--scaling`` publishes N more events (seed + 1) and times (1) with 1 worker
over all 2N. Every step has a timeout (``--step-timeout``, default 3600 s); a
step that fails or times out is reported as such and the others still run.
Numbers on a loaded machine are distorted: compare ratios taken together.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SIMPLE_TYPES = frozenset({"page_view", "page_ping", "click"})
TWO_WORKERS = ("--direct_num_workers=2", "--direct_running_mode=multi_processing")
SESSION_GAP_S = 30 * 60
SAMPLE_S = 0.2
PAGE = os.sysconf("SC_PAGE_SIZE")
NETNS_INIT = 'ip link set lo up || exit 97; "$@"; exit $?'
RESULT_MARKER = "COMPARE_RESULT:"


def load() -> str:
    return "load %.1f %.1f %.1f" % os.getloadavg()


def rate(n: int, seconds: float | None) -> str:
    return f"{n / seconds:>10,.0f} events/s ({seconds:7.1f} s)" if seconds else "         - events/s"


# -- events -----------------------------------------------------------------------------------------------------

def make_events(n: int, seed: int, simple: bool) -> list[dict]:
    from journeys.generators.synthetic import generate_events

    if not simple:
        return generate_events(n, seed=seed)
    wanted, events = n, []
    while len(events) < n:  # the web share varies with the seed: grow until N simple events
        wanted = int(wanted * 1.6) + 100
        events = [e for e in generate_events(wanted, seed=seed)
                  if e["channel"] == "web" and e["event_type"] in SIMPLE_TYPES]
    return events[:n]


# -- process trees ----------------------------------------------------------------------------------------------

def tree_rss(root: int) -> int:
    """Resident bytes of ``root`` and all its descendants (from /proc)."""
    parent_of: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
            parent_of[int(entry)] = int(fields[1])
        except (OSError, IndexError, ValueError):
            continue
    tree, grew = {root}, True
    while grew:
        more = {pid for pid, ppid in parent_of.items() if ppid in tree and pid not in tree}
        tree |= more
        grew = bool(more)
    total = 0
    for pid in tree:
        try:
            with open(f"/proc/{pid}/statm", "rb") as statm:
                total += int(statm.read().split()[1]) * PAGE
        except (OSError, IndexError, ValueError):
            continue
    return total


def timed_subprocess(argv: list[str], log: Path, timeout_s: float, env: dict | None = None) -> dict:
    """Runs argv (own session), sampling its tree's RSS; {"seconds", "peak_rss", "rc", "tail"}."""
    began = time.perf_counter()
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, cwd=REPO, env=env,
                                start_new_session=True)
    peak, stop = [0], threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], tree_rss(proc.pid))
            stop.wait(SAMPLE_S)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        rc = proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        rc = "timeout"
    except BaseException:
        os.killpg(proc.pid, signal.SIGKILL)
        raise
    seconds = time.perf_counter() - began
    stop.set()
    sampler.join()
    tail = log.read_text(errors="replace").splitlines()[-6:]
    return {"seconds": seconds, "peak_rss": peak[0], "rc": rc, "tail": tail, "load": load()}


# -- the measurements -------------------------------------------------------------------------------------------

def publish_events(bootstrap: str, events: list[dict]) -> float:
    from journeys.commands.produce import publish
    from journeys.core.config import Config

    began = time.perf_counter()
    report = publish(bootstrap, events, Config().topics)
    if report.sent != len(events):
        raise RuntimeError(f"published {report.sent} of {len(events)}: {report.rejected[:3]}")
    return time.perf_counter() - began


def our_run(bootstrap: str, work: Path, name: str, beam_args: tuple[str, ...], timeout_s: float) -> dict:
    config = work / f"{name}.toml"
    config.write_text(f'[kafka]\nconsumer_group = "compare-{name}"\n')
    argv = [sys.executable, "-m", "journeys.commands.cli", "run", "--source", f"kafka:{bootstrap}",
            "--warehouse", f"duckdb:{work / (name + '.duckdb')}", "--config", str(config),
            "--output-dir", str(work / f"runs-{name}")]
    if beam_args:
        argv += ["--", *beam_args]
    return timed_subprocess(argv, work / f"{name}.log", timeout_s)


def read_ceiling(bootstrap: str, expected: int, timeout_s: float) -> dict:
    from kafka import KafkaConsumer, TopicPartition

    from journeys.core.config import Config
    from journeys.wire.framing import decode
    from journeys.wire.schema_catalog import SchemaCatalog

    catalog, topics = SchemaCatalog(), list(Config().topics.by_channel().values())
    began = time.perf_counter()
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                             max_poll_records=5000, fetch_max_bytes=64 * 1024 * 1024)
    try:
        tps = [TopicPartition(t, p) for t in topics for p in sorted(consumer.partitions_for_topic(t) or ())]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        ends = consumer.end_offsets(tps)
        remaining = {tp for tp in tps if ends[tp] > 0}
        decoded = 0
        while remaining and time.perf_counter() - began < timeout_s:
            for tp, messages in consumer.poll(timeout_ms=1000).items():
                for message in messages:
                    decode(message.value, catalog)
                    decoded += 1
                if messages and messages[-1].offset + 1 >= ends[tp]:
                    remaining.discard(tp)
                    consumer.pause(tp)
    finally:
        consumer.close()
    seconds = time.perf_counter() - began
    return {"seconds": seconds if decoded == expected else None, "decoded": decoded, "load": load()}


def textbook_job(path: str, out: str, beam_args: list[str]) -> None:
    """The textbook Beam job (run as a subprocess: --textbook-job)."""
    import apache_beam as beam
    from apache_beam.transforms import window

    from journeys.pipelines.runners import make_options, make_runner

    def parse(line: str):
        e = json.loads(line)
        return window.TimestampedValue((e["anonymous_id"], (e["event_time"], e["event_type"], e.get("page_url"))),
                                       e["event_time"] / 1000)

    def time_on_page(visitor_events):
        _, events = visitor_events
        events = sorted(events, key=lambda e: (e[0], e[1]))
        for (t, kind, url), following in zip(events, events[1:] + [None]):
            if kind == "page_view":
                yield url, (following[0] - t) / 1000 if following else 0.0

    with beam.Pipeline(runner=make_runner(), options=make_options(extra_args=beam_args)) as p:
        (p | "Read" >> beam.io.ReadFromText(path)
         | "Parse" >> beam.Map(parse)
         | "Sessions" >> beam.WindowInto(window.Sessions(SESSION_GAP_S))
         | "ByVisitor" >> beam.GroupByKey()
         | "TimeOnPage" >> beam.FlatMap(time_on_page)
         | "Global" >> beam.WindowInto(window.GlobalWindows())
         | "MeanPerPage" >> beam.combiners.Mean.PerKey()
         | "Format" >> beam.MapTuple(lambda url, mean: f"{url}\t{mean:.3f}")
         | "Write" >> beam.io.WriteToText(out, num_shards=1))


DUCKDB_SQL = """
WITH ordered AS (
    SELECT anonymous_id, event_type, page_url, to_timestamp(event_time / 1000) AS t, event_id,
           lag(to_timestamp(event_time / 1000)) OVER (PARTITION BY anonymous_id ORDER BY event_time, event_id) AS prev_t
    FROM events
), sessions AS (
    SELECT *, sum(CASE WHEN prev_t IS NULL OR t - prev_t > INTERVAL 30 MINUTE THEN 1 ELSE 0 END)
              OVER (PARTITION BY anonymous_id ORDER BY t, event_id ROWS UNBOUNDED PRECEDING) AS session_no
    FROM ordered
), on_page AS (
    SELECT event_type, page_url,
           coalesce(epoch(lead(t) OVER (PARTITION BY anonymous_id, session_no ORDER BY t, event_id)) - epoch(t), 0)
               AS seconds
    FROM sessions
)
SELECT page_url, avg(seconds) AS mean_time_on_page, count(*) AS page_views
FROM on_page WHERE event_type = 'page_view' GROUP BY page_url
"""


def duckdb_sql(path: Path) -> dict:
    import duckdb

    began = time.perf_counter()
    con = duckdb.connect()
    con.execute("CREATE TABLE events AS SELECT * FROM read_json(?, format = 'newline_delimited', columns = "
                "{event_id: 'VARCHAR', event_type: 'VARCHAR', anonymous_id: 'VARCHAR', event_time: 'BIGINT', "
                "page_url: 'VARCHAR'})", [str(path)])
    loaded = time.perf_counter()
    pages = con.execute(DUCKDB_SQL).fetchall()
    seconds = time.perf_counter() - began
    con.close()
    return {"seconds": seconds, "load_s": loaded - began, "pages": len(pages), "load": load()}


# -- streaming (inside a network namespace) ---------------------------------------------------------------------

def committed_lag(bootstrap: str, group: str, topics: list[str]) -> int:
    """Messages on ``topics`` that ``group`` has not committed (the streaming driver's own measure)."""
    from journeys.core.config import KafkaConfig
    from journeys.transforms.kafka_stream import end_offsets_and_lag, plan_stream_start

    kafka = KafkaConfig(consumer_group=group)
    return end_offsets_and_lag(bootstrap, kafka, plan_stream_start(bootstrap, topics, kafka))[1]


def streaming_inside(n: int, seed: int, simple: bool, timeout_s: float) -> dict:
    """Runs in the namespace: its own broker, N events, the streaming driver until everything is committed."""
    from journeys.core.config import Config
    from journeys.servers.kafka_broker import LocalKafka, create_topics

    work = Path(tempfile.mkdtemp(prefix="compare-stream-"))
    broker = LocalKafka(work / "kafka")
    bootstrap = broker.start(die_with_parent=True)
    try:
        topics = Config().topics
        names = list(topics.by_channel().values())
        create_topics(bootstrap, [*names, topics.dead_letters], partitions=3)
        publish_events(bootstrap, make_events(n, seed, simple))
        config = work / "stream.toml"
        config.write_text('[kafka]\nconsumer_group = "compare-stream"\n')
        argv = [sys.executable, "-m", "journeys.commands.cli", "run", "--source", f"kafka:{bootstrap}",
                "--warehouse", f"duckdb:{work / 'stream.duckdb'}", "--config", str(config),
                "--output-dir", str(work / "runs"), "--streaming", "--runner", "FlinkRunner"]
        began = time.perf_counter()
        with open(work / "driver.log", "wb") as log:
            driver = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=REPO, start_new_session=True)
        seconds = None
        try:
            while time.perf_counter() - began < timeout_s and driver.poll() is None:
                time.sleep(1)
                if committed_lag(bootstrap, "compare-stream", names) == 0:
                    seconds = time.perf_counter() - began
                    break
        finally:
            driver.send_signal(signal.SIGTERM)
            try:
                driver.wait(timeout=120)
            except subprocess.TimeoutExpired:
                os.killpg(driver.pid, signal.SIGKILL)
        tail = (work / "driver.log").read_text(errors="replace").splitlines()[-6:]
        return {"seconds": seconds, "rc": driver.returncode, "tail": tail, "load": load()}
    finally:
        broker.stop()
        shutil.rmtree(work, ignore_errors=True)


def streaming_run(n: int, seed: int, simple: bool, timeout_s: float) -> dict:
    from journeys.servers.flink import ensure_flink_jars

    ensure_flink_jars()  # nothing inside the namespace reaches the network
    argv = ["unshare", "--net", "--pid", "--fork", "--kill-child", "--mount-proc", "sh", "-c", NETNS_INIT, "sh",
            sys.executable, str(Path(__file__).resolve()), "--streaming-inside", "--events", str(n),
            "--seed", str(seed), "--step-timeout", str(timeout_s), *(["--simple"] if simple else [])]
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s + 300, cwd=REPO, check=False)
    except subprocess.TimeoutExpired:
        return {"seconds": None, "rc": "timeout", "tail": [], "load": load()}
    results = [line[len(RESULT_MARKER):] for line in proc.stdout.splitlines() if line.startswith(RESULT_MARKER)]
    if not results:
        return {"seconds": None, "rc": proc.returncode, "tail": (proc.stdout + proc.stderr).splitlines()[-6:],
                "load": load()}
    return json.loads(results[-1])


# -- the report -------------------------------------------------------------------------------------------------

def show(label: str, n: int, result: dict, extra: str = "") -> None:
    ok = result.get("seconds") is not None and result.get("rc", 0) == 0
    line = f"{label:<34} {rate(n, result['seconds'] if ok else None)}"
    if result.get("peak_rss"):
        line += f"  peak RSS {result['peak_rss'] / 2**20:,.0f} MiB"
    print(f"{line}  {extra}[{result['load']}]", flush=True)
    if not ok:
        print(f"    failed (exit {result.get('rc')}): " + " | ".join(result.get("tail") or ()), flush=True)


def ratio(label: str, a: dict | None, b: dict | None) -> None:
    """a's events/s over b's (same N): b's seconds over a's."""
    if a and b and a.get("seconds") and b.get("seconds") and a.get("rc", 0) == 0 and b.get("rc", 0) == 0:
        print(f"  {label:<40} {b['seconds'] / a['seconds']:8.3g}")
    else:
        print(f"  {label:<40}      -")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--simple", action="store_true", help="only web page views, pings and clicks")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scaling", action="store_true", help="also time our 1-worker run at 2N")
    parser.add_argument("--streaming", action="store_true", help="also the streaming run on Flink (netns, root)")
    parser.add_argument("--step-timeout", type=float, default=3600, help="seconds per step (default 3600)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs, warehouses)")
    parser.add_argument("--textbook-job", nargs=2, metavar=("JSONL", "OUT"), help=argparse.SUPPRESS)
    parser.add_argument("--streaming-inside", action="store_true", help=argparse.SUPPRESS)
    args, beam_args = parser.parse_known_args()
    if args.textbook_job:
        textbook_job(*args.textbook_job, beam_args)
        return 0
    if args.streaming_inside:
        print(RESULT_MARKER + json.dumps(streaming_inside(args.events, args.seed, args.simple, args.step_timeout)))
        return 0

    from journeys.core.config import Config
    from journeys.generators.synthetic import write_jsonl
    from journeys.servers.kafka_broker import LocalKafka, create_topics, ensure_kafka_jars

    n, timeout_s = args.events, args.step_timeout
    kind = "simple (web page_view/page_ping/click)" if args.simple else "rich synthetic (demo)"
    work = Path(tempfile.mkdtemp(prefix="compare-"))
    print(f"compare: {n:,} {kind} events, seed {args.seed}; {os.cpu_count()} CPUs; work dir {work}; [{load()}]",
          flush=True)
    ensure_kafka_jars()
    broker = LocalKafka(work / "kafka")
    results: dict[str, dict] = {}
    try:
        began = time.perf_counter()
        events = make_events(n, args.seed, args.simple)
        dump = work / "events.jsonl"
        write_jsonl(events, dump)
        print(f"{'generate + JSONL dump':<34} {rate(n, time.perf_counter() - began)}  "
              f"{dump.stat().st_size / 2**20:,.0f} MiB  [{load()}]", flush=True)
        bootstrap = broker.start(die_with_parent=True)
        topics = Config().topics
        create_topics(bootstrap, [*topics.by_channel().values(), topics.dead_letters], partitions=3)
        show("publish (journeys produce)", n, {"seconds": publish_events(bootstrap, events), "load": load()})
        del events

        results["ours1"] = our_run(bootstrap, work, "ours-1w", (), timeout_s)
        show("(1) journeys run, 1 worker", n, results["ours1"])
        results["ours2"] = our_run(bootstrap, work, "ours-2w", TWO_WORKERS, timeout_s)
        show("(1) journeys run, 2 workers", n, results["ours2"])
        results["ceiling"] = read_ceiling(bootstrap, n, timeout_s)
        show("(2) read ceiling (poll + decode)", n, results["ceiling"])
        results["textbook"] = timed_subprocess(
            [sys.executable, str(Path(__file__).resolve()), "--textbook-job", str(dump), str(work / "textbook")],
            work / "textbook.log", timeout_s)
        show("(3) textbook Beam (Sessions+GBK)", n, results["textbook"])
        results["duckdb"] = duckdb_sql(dump)
        show("(4) DuckDB SQL (window functions)", n, results["duckdb"],
             f"read_json {results['duckdb']['load_s']:.1f} s  ")
        if args.streaming:
            results["streaming"] = streaming_run(n, args.seed, args.simple, timeout_s)
            show("(5) journeys run --streaming, Flink", n, results["streaming"])
        if args.scaling:
            publish_events(bootstrap, make_events(n, args.seed + 1, args.simple))
            results["ours1_2n"] = our_run(bootstrap, work, "ours-1w-2n", (), timeout_s)
            show("(1) journeys run, 1 worker, 2N", 2 * n, results["ours1_2n"])
    finally:
        broker.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print("ratios (events/s over events/s):")
    ratio("ours (1 worker) / read ceiling", results.get("ours1"), results.get("ceiling"))
    ratio("2 workers / 1 worker", results.get("ours2"), results.get("ours1"))
    ratio("ours (1 worker) / textbook Beam", results.get("ours1"), results.get("textbook"))
    ratio("ours (1 worker) / DuckDB SQL", results.get("ours1"), results.get("duckdb"))
    if "streaming" in results:
        ratio("streaming / ours (1 worker)", results.get("streaming"), results.get("ours1"))
    if "ours1_2n" in results:
        a, b = results["ours1"], results["ours1_2n"]
        if a.get("rc") == 0 and b.get("rc") == 0:
            print(f"  {'time at 2N / time at N (2.00 = linear)':<40} {b['seconds'] / a['seconds']:6.2f}")
    return 0 if all(r.get("rc", 0) == 0 and r.get("seconds") for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
