"""The ``journeys`` command line (contract section 6).

Each command imports what it needs inside its function: Beam, Great Expectations
and the warehouse drivers take seconds to import, and `journeys --help` should not
wait for them.
"""
from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import traceback
from datetime import datetime
from pathlib import Path
from typing import Callable

from journeys.core.config import Config
from journeys.core.errors import NotWritable

DEFAULT_WORKDIR = Path(".journeys")
DEFAULT_DEMO_EVENTS = 20_000
EXIT_BAD_INPUT = 1
EXIT_USAGE = 2
EXIT_NOTHING_YET = 3  # report or quality on a warehouse with nothing stored yet (as `kafka status`: not there)
EXIT_QUALITY = 4
EXIT_UNREACHABLE = 5  # a server cannot be reached or refused us: Kafka, PostgreSQL
EXIT_NOT_WRITABLE = 6  # an output cannot be written: a DuckDB file locked by another process, --output-dir
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT)
EXIT_INTERNAL = 70  # anything else: a bug (EX_SOFTWARE); --debug shows the traceback


def load_config(path=None) -> Config:
    """A config file checked whole: every value's type and range (Config.load), and the quality policy file."""
    from journeys.quality.policy import check_policy_setting

    config = Config.load(path)
    check_policy_setting(config.quality.policy_path)
    return config


def _config(args) -> Config:
    from journeys.rules.masking import configure

    config = load_config(getattr(args, "config", None))
    configure(config.masking)  # phone regions and pseudonyms for everything this process masks
    return config


def cmd_kafka(args) -> int:
    from journeys.servers.kafka_broker import (
        LocalKafka,
        create_topics,
        ensure_kafka_jars,
    )

    broker = LocalKafka(args.data_dir)
    if args.action == "start":
        ensure_kafka_jars()
        if broker.status()["running"]:
            print(f"already running on {broker.bootstrap}")
            return 0
        bootstrap = broker.start(port=args.port)
        topics = _config(args).topics
        create_topics(bootstrap, [*topics.by_channel().values(), topics.dead_letters], topics.partitions)
        print(f"Kafka running on {bootstrap} (data in {args.data_dir}); stop with `journeys kafka stop`")
    elif args.action == "stop":
        broker.stop()
        print("Kafka stopped")
    else:
        status = broker.status()
        print("running on " + str(status["bootstrap"]) if status["running"] else "not running")
        return 0 if status["running"] else 3
    return 0


def cmd_produce(args) -> int:
    from journeys.commands.produce import publish, read_jsonl, report_lines
    from journeys.generators.synthetic import DEFAULT_START, generate_events

    if args.synthetic is not None:
        start = datetime.fromisoformat(args.start.replace("Z", "+00:00")) if args.start else DEFAULT_START
        records = generate_events(args.synthetic, seed=args.seed, start=start)
    else:
        records = read_jsonl(args.from_file)
    config = _config(args)
    report = publish(args.bootstrap, records, config.topics, framing=args.framing, kafka=config.kafka)
    print("\n".join(report_lines(report)))
    return EXIT_BAD_INPUT if report.rejected else 0


def cmd_run(args) -> int:
    from journeys.pipelines.run import RunRequest, run_ingest
    from journeys.pipelines.sources import Source

    if args.streaming:
        return _run_streaming(args)
    from journeys.pipelines.run import QualityGateFailed
    from journeys.quality import QualityFailure

    try:
        summary = run_ingest(RunRequest(source=Source.parse(args.source), output_dir=args.output_dir,
                                        warehouse=args.warehouse, runner=args.runner, config=_config(args),
                                        beam_args=tuple(args.beam_args)))
    except (QualityFailure, QualityGateFailed) as failure:
        print(f"journeys run: quality gate failed, nothing of the failed batch was written or committed: {failure}", file=sys.stderr)
        return EXIT_QUALITY
    print("\n".join(summary.lines()))
    return 0 if summary.balanced else EXIT_BAD_INPUT


def _run_streaming(args) -> int:
    from journeys.pipelines.sources import KAFKA, Source
    from journeys.pipelines.streaming import DEFAULT_STREAMING_RUNNER, StreamRequest, run_streaming

    source = Source.parse(args.source)
    if source.kind != KAFKA:
        print("journeys run: --streaming reads Kafka (--source kafka:HOST:PORT)", file=sys.stderr)
        return EXIT_USAGE
    runner = DEFAULT_STREAMING_RUNNER if args.runner == "DirectRunner" else args.runner
    summary = run_streaming(StreamRequest(
        bootstrap=source.location, output_dir=args.output_dir, warehouse=args.warehouse, runner=runner,
        config=_config(args), idle_timeout_s=args.idle_timeout,
        beam_args=tuple(_streaming_args(runner, args.beam_args))))
    print("\n".join(summary.lines()))
    return 0 if summary.balanced else EXIT_BAD_INPUT


def _streaming_args(runner: str, beam_args: list[str]) -> list[str]:
    """FlinkRunner: the job server from deploy/flink (journeys.servers.flink), unless the options name their own."""
    if runner != "FlinkRunner":
        return list(beam_args)
    from journeys.servers.flink import runner_options

    given = {arg.split("=", 1)[0] for arg in beam_args}
    master = next((arg.split("=", 1)[1] for arg in beam_args if arg.startswith("--flink_master=")), "[local]")
    defaults = [arg for arg in runner_options(master) if arg.split("=", 1)[0] not in given
                or arg.startswith("--job_server_jvm_property")]
    return [arg for arg in defaults if not arg.startswith("--runner=")] + list(beam_args)


def cmd_report(args) -> int:
    from journeys.commands.report import report

    report(args.warehouse, html=args.html, funnel_steps=_config(args).dashboard.funnel_steps)
    if args.html:
        print(f"saved {args.html}")
    return 0


def cmd_demo(args) -> int:
    from journeys.commands.demo import DemoRequest, run_demo

    summary = run_demo(DemoRequest(workdir=args.workdir, events=args.events, seed=args.seed, config=_config(args)))
    return 0 if summary.balanced else EXIT_BAD_INPUT


def cmd_quality(args) -> int:
    from journeys.commands.quality_report import quality_report
    from journeys.quality import Policy

    # Without --config the stored policies judge (what each run applied); with it, the config's policy file.
    policy = Policy.load(_config(args).quality.policy_path) if args.config else None
    return 0 if quality_report(args.warehouse, html_dir=args.html, policy=policy) else EXIT_QUALITY


def cmd_import(args) -> int:
    from journeys.generators.snowplow_import import run_import

    return run_import(args.source, args.target, time_column=args.time_column)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="journeys", description="Cross-channel customer-journey analytics.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO (Beam included)")
    parser.add_argument("--debug", action="store_true", help="on failure, also print the traceback")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="local Kafka + synthetic day + pipeline into DuckDB")
    demo.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR / "demo", help="default .journeys/demo")
    demo.add_argument("--events", type=int, default=DEFAULT_DEMO_EVENTS, help=f"default {DEFAULT_DEMO_EVENTS}")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--config", help="a TOML or JSON config file")
    demo.set_defaults(func=cmd_demo)

    kafka = sub.add_parser("kafka", help="a local single-node Kafka broker (KRaft) on 127.0.0.1")
    kafka.add_argument("action", choices=("start", "stop", "status"))
    kafka.add_argument("--data-dir", type=Path, default=DEFAULT_WORKDIR / "kafka", help="default .journeys/kafka")
    kafka.add_argument("--port", type=int, help="default: a free port")
    kafka.add_argument("--config", help="a TOML or JSON config file (topic names)")
    kafka.set_defaults(func=cmd_kafka)

    produce = sub.add_parser("produce", help="publish events to the channel topics")
    produce.add_argument("--bootstrap", required=True, help="HOST:PORT")
    what = produce.add_mutually_exclusive_group(required=True)
    what.add_argument("--from", dest="from_file", help="a JSONL file of events")
    what.add_argument("--synthetic", type=int, metavar="N", help="N synthetic events")
    produce.add_argument("--seed", type=int, default=0, help="synthetic seed (default 0)")
    produce.add_argument("--start", help="synthetic start, ISO-8601 UTC (default 2026-01-05T00:00:00Z)")
    produce.add_argument("--framing", default="mixed", choices=("confluent", "single-object", "mixed"),
                         help="Avro wire framing (default mixed: half each, by event id)")
    produce.add_argument("--config", help="a TOML or JSON config file (topic names)")
    produce.set_defaults(func=cmd_produce)

    report = sub.add_parser("report", help="journeys, conversion, escalation, bounce, friction, slowest pages")
    report.add_argument("--warehouse", required=True, help="duckdb:PATH or postgresql://...")
    report.add_argument("--html", help="also write an offline interactive dashboard (one HTML file)")
    report.add_argument("--config", help="a TOML or JSON config file ([dashboard] funnel_steps)")
    report.set_defaults(func=cmd_report)

    checks = sub.add_parser("quality", help="the latest run's data quality results (exit 4 if a check with policy "
                                            "fail failed; report and quarantine failures are warnings)")
    checks.add_argument("--warehouse", required=True, help="duckdb:PATH or postgresql://...")
    checks.add_argument("--html", help="also write the results as an HTML page into this folder")
    checks.add_argument("--config", help="a TOML or JSON config file: judge the results by its [quality] "
                                         "policy_path (default: the policies stored with the results)")
    checks.set_defaults(func=cmd_quality)

    importer = sub.add_parser("import", help="convert another system's export to JSONL events")
    systems = importer.add_subparsers(dest="system", required=True)
    snowplow = systems.add_parser("snowplow", help="Snowplow atomic events CSV -> JSONL web events")
    snowplow.add_argument("--from", dest="source", type=Path, required=True, help="CSV export with a header row")
    snowplow.add_argument("--to", dest="target", type=Path, required=True, help="JSONL file to write")
    snowplow.add_argument("--time-column", default="derived_tstamp",
                          choices=("derived_tstamp", "dvce_created_tstamp", "collector_tstamp"),
                          help="the Snowplow timestamp that becomes event_time (default derived_tstamp)")
    snowplow.set_defaults(func=cmd_import)

    run = sub.add_parser("run", help="run the pipeline over a bounded input, or on and on with --streaming")
    run.add_argument("--source", required=True, help="kafka:HOST:PORT or file:PATH_OR_GLOB")
    run.add_argument("--warehouse", help="duckdb:PATH, postgresql://USER@HOST:PORT/DB or bigquery:PROJECT.DATASET")
    run.add_argument("--runner", default="DirectRunner", help="DirectRunner (default), FlinkRunner, ...")
    run.add_argument("--config", help="a TOML or JSON config file")
    run.add_argument("--output-dir", type=Path, default=DEFAULT_WORKDIR / "runs", help="default .journeys/runs")
    run.add_argument("--streaming", action="store_true",
                     help="keep reading Kafka and land micro-batches until SIGINT/SIGTERM or --idle-timeout "
                          "(default runner: FlinkRunner, embedded; -- --flink_master=HOST:PORT for a cluster)")
    run.add_argument("--idle-timeout", type=float, metavar="SECONDS",
                     help="with --streaming: stop once no new message arrived for this long")
    run.add_argument("beam_args", nargs="*", help="after --: extra Beam pipeline options")
    run.set_defaults(func=cmd_run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if not args.verbose:
        # Beam's optional-dependency notice is noise for a CLI user.
        logging.getLogger().addFilter(lambda record: "apitools" not in record.getMessage())
    try:
        if getattr(args, "output_dir", None) is not None:
            _require_writable(args.output_dir)
        return args.func(args)
    except BaseException as error:  # noqa: BLE001 - every failure ends as one line and an exit code
        if isinstance(error, SystemExit):
            raise
        code, message = failure(error)
        if args.debug:
            traceback.print_exception(error, file=sys.stderr)
        print(f"journeys {args.command}: {message}", file=sys.stderr)
        return code


def _require_writable(folder: Path) -> None:
    """Fail before any work when ``--output-dir`` cannot be created or written."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise NotWritable(error.errno, f"--output-dir {folder}: cannot write there "
                                       f"({error.strerror or type(error).__name__})") from error


def _failure_types() -> list[tuple[tuple[type, ...], int, Callable[[BaseException], str]]]:
    """Exception type -> (exit code, message), most specific first; README "Exit codes" lists the codes."""
    import duckdb

    from journeys.core.errors import ConfigError, NotWritable, Unreachable

    table: list[tuple[tuple[type, ...], int, Callable[[BaseException], str]]] = [
        ((KeyboardInterrupt,), EXIT_INTERRUPTED, lambda e: "interrupted"),
        ((ConfigError,), EXIT_USAGE, lambda e: f"bad configuration: {e}"),
        ((Unreachable,), EXIT_UNREACHABLE, str),
        ((NotWritable,), EXIT_NOT_WRITABLE, lambda e: e.strerror or str(e)),
        # DuckDB holds one writer per file: "Could not set lock on file ...: Conflicting lock is held in ...".
        ((duckdb.IOException,), EXIT_NOT_WRITABLE, lambda e: f"the DuckDB warehouse cannot be opened: {_first_line(e)}"),
    ]
    try:
        import psycopg
    except ImportError:
        pass
    else:
        table.append(((psycopg.OperationalError,), EXIT_UNREACHABLE,
                      lambda e: f"PostgreSQL cannot be reached: {_first_line(e)}"))
    try:
        from journeys.warehouses.base import NothingStoredYet
    except ImportError:
        pass
    else:
        table.append(((NothingStoredYet,), EXIT_NOTHING_YET, str))
    table += [
        ((FileNotFoundError,), EXIT_USAGE, lambda e: f"{e.filename}: no such file" if e.filename else str(e)),
        ((PermissionError,), EXIT_NOT_WRITABLE, lambda e: f"{e.filename}: permission denied" if e.filename else str(e)),
        ((ValueError, RuntimeError, TimeoutError), EXIT_USAGE, str),
    ]
    return table


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def failure(error: BaseException) -> tuple[int, str]:
    """(exit code, one line) for ``error``, or for the first error in its cause chain with a known type."""
    table = _failure_types()
    chain, seen = [], set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        chain.append(error)
        error = error.__cause__ or (None if error.__suppress_context__ else error.__context__)
    for candidate in chain:
        for types, code, say in table[:-1]:  # the generic last row only for the outermost error
            if isinstance(candidate, types):
                return code, _first_line_of(say(candidate))
    types, code, say = table[-1]
    if isinstance(chain[0], types):
        return code, _first_line_of(say(chain[0]))
    return EXIT_INTERNAL, (f"internal error: {type(chain[0]).__name__}: {_first_line(chain[0])} "
                           "(rerun with --debug for the traceback)")


def _first_line_of(message: str) -> str:
    return (message.strip().splitlines() or [""])[0]


if __name__ == "__main__":
    sys.exit(main())
