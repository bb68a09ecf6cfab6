"""Top entries of a py-spy raw (collapsed stacks) profile: self time, inclusive time, and our own code.

    .venv/bin/py-spy record --rate 50 --subprocesses --format raw -o stacks.txt -- \
        .venv/bin/python -m journeys.commands.cli run --source file:events.jsonl --warehouse duckdb:w.duckdb
    python benchmarks/profile_top.py stacks.txt [TOP]

"Ours" charges every sample to the innermost frame in journeys/, pipelines/ or
transforms/ (time spent in libraries called from there included).
"""
from __future__ import annotations

import re
import sys
from collections import Counter

OURS = re.compile(r"\((journeys|pipelines|transforms)/")
LINE = re.compile(r":\d+\)$")


def function(frame: str) -> str:
    return LINE.sub(")", frame)  # the function, not the line


def top(path: str, n: int = 25) -> str:
    self_time, inclusive, ours = Counter(), Counter(), Counter()
    total = 0
    with open(path, encoding="utf-8", errors="replace") as stacks:
        for line in stacks:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            if not count.isdigit():
                continue
            samples = int(count)
            frames = [function(f) for f in stack.split(";")[1:]]  # [0] is the process
            if not frames:
                continue
            total += samples
            self_time[frames[-1]] += samples
            for frame in set(frames):
                inclusive[frame] += samples
            mine = next((f for f in reversed(frames) if OURS.search(f)), "(outside our code)")
            ours[mine] += samples

    def table(title: str, counter: Counter) -> list[str]:
        rows = [f"{title} (of {total} samples)"]
        rows += [f"  {c / total:6.1%}  {c:6d}  {f}" for f, c in counter.most_common(n)]
        return rows

    return "\n".join(table("self time", self_time) + [""] + table("innermost frame of our code", ours)
                     + [""] + table("inclusive time", inclusive))


if __name__ == "__main__":
    print(top(sys.argv[1], *(int(a) for a in sys.argv[2:3])))
