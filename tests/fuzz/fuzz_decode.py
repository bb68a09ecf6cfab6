"""atheris (libFuzzer) target: any bytes, in any framing, decode to one storable Event or DeadLetter.

Run it for as long as you like:
    .venv/bin/python tests/fuzz/fuzz_decode.py -max_total_time=60 [CORPUS_DIR]
tests/rules/test_fuzz_decode.py runs ``check_one`` over a fixed random corpus
(and this target for a few seconds when atheris is installed: the ``fuzz`` extra).
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for support.*

from support.hostile import NOW_MS, RULES, assert_storable  # noqa: E402

from journeys.wire.decode import AVRO, JSON, RawMessage, RawRecord, to_event_or_dead_letter  # noqa: E402
from journeys.wire.schema_catalog import SchemaCatalog  # noqa: E402

CATALOG = SchemaCatalog()
CHANNELS = (None, "web", "app", "chat")


def check_one(data: bytes) -> None:
    """The first byte picks the framing and topic channel; the rest is the message."""
    if not data:
        data = b"\x00"
    mode, body = data[0], data[1:]
    channel = CHANNELS[mode % 4]
    if mode & 4:
        try:
            record = json.loads(body)
        except (ValueError, RecursionError):
            return
        item = RawRecord("f.avro", 0, 1, record) if isinstance(record, dict) else RawMessage("f", 0, 1, body, JSON)
    else:
        item = RawMessage("t", 0, 1, body, JSON if mode & 8 else AVRO, channel=channel)
    assert_storable(to_event_or_dead_letter(item, CATALOG, RULES, NOW_MS))


def main() -> None:
    import atheris

    # Coverage feedback for every module already imported (journeys.*); instrumenting takes a
    # minute or more, so the bounded pytest run sets JOURNEYS_FUZZ_INSTRUMENT=0 and fuzzes blind.
    if os.environ.get("JOURNEYS_FUZZ_INSTRUMENT", "1") != "0":
        atheris.instrument_all()
    atheris.Setup(sys.argv, lambda data: check_one(bytes(data)))
    atheris.Fuzz()


if __name__ == "__main__":
    main()
