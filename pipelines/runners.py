"""Runner names as the user says them, mapped to what runs.

Beam's "DirectRunner" first tries to download and start the Prism runner and
falls back to the in-process FnApiRunner after a delay; with no internet that
is only a delay, so "DirectRunner" here goes straight to the FnApiRunner for
batch pipelines. Other names pass through to Beam unchanged.
"""
from __future__ import annotations

from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.runners.portability.fn_api_runner import fn_runner

DEFAULT_RUNNER = "DirectRunner"


def make_runner(name: str = DEFAULT_RUNNER):
    if name == DEFAULT_RUNNER:
        return fn_runner.FnApiRunner()
    return name


def make_options(runner: str = DEFAULT_RUNNER, extra_args: list[str] | None = None) -> PipelineOptions:
    args = list(extra_args or [])
    if runner != DEFAULT_RUNNER:
        args.append(f"--runner={runner}")
    return PipelineOptions(args)
