"""Flex Template entry point: the template's parameters become ``journeys run --streaming`` arguments.

Dataflow passes every parameter as ``--name=value``; ``source``, ``warehouse``, ``config`` and
``idle_timeout`` are journeys options, everything else (``--runner``, ``--project``, ``--region``,
``--temp_location``, ``--sdk_container_image`` ...) is a Beam pipeline option. UNTESTED here.
"""
import sys

from journeys.commands.cli import main

OURS = ("source", "warehouse", "config", "idle_timeout")

if __name__ == "__main__":
    ours, beam = [], []
    for arg in sys.argv[1:]:
        name = arg[2:].split("=", 1)[0]
        (ours if name in OURS else beam).append(arg.replace("--idle_timeout", "--idle-timeout"))
    sys.exit(main(["run", *ours, "--streaming", "--runner", "DataflowRunner", "--", *beam]))
