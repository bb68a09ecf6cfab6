"""ParseEvents: raw input to validated events, with a dead-letter output."""
from __future__ import annotations

from collections import Counter

import apache_beam as beam
from apache_beam.metrics import Metrics

from journeys.core.config import MaskingConfig, ValidationConfig
from journeys.core.events import EventRules
from journeys.rules import masking
from journeys.transforms.batches import Batch
from journeys.wire.decode import DeadLetter, to_event_or_dead_letter
from journeys.wire.schema_catalog import SchemaCatalog

EVENTS = "events"
DEAD_LETTERS = "dead_letters"
NAMESPACE = "journeys"


class _DecodeFn(beam.DoFn):
    def __init__(self, validation: ValidationConfig, registry_url: str | None, run_started_ms: int,
                 masking_config: MaskingConfig):
        self._validation = validation
        self._masking = masking_config
        self._registry_url = registry_url
        self._run_started_ms = run_started_ms
        self._input = Metrics.counter(NAMESPACE, "input")
        self._decoded = Metrics.counter(NAMESPACE, "decoded")
        self._dead = Metrics.counter(NAMESPACE, "dead_letters")

    def setup(self):
        self._catalog = SchemaCatalog(self._registry_url)
        # A worker process starts with the default settings: bring the launcher's along.
        masking.configure(self._masking)
        self._rules = EventRules(self._validation, now_ms=self._run_started_ms,
                                 user_id_map=masking.pseudonymiser(self._masking))

    def process(self, batch):
        events, dead = [], []
        for item in batch:
            result = to_event_or_dead_letter(item, self._catalog, self._rules, self._run_started_ms)
            (dead if isinstance(result, DeadLetter) else events).append(result)
        self._input.inc(len(batch))
        self._decoded.inc(len(events))
        if events:
            yield events
        if dead:
            self._dead.inc(len(dead))
            for reason, n in Counter(d.reason for d in dead).items():
                Metrics.counter(NAMESPACE, f"dead_letter.{reason}").inc(n)
            yield from (beam.pvalue.TaggedOutput(DEAD_LETTERS, d) for d in dead)


class ParseEvents(beam.PTransform):
    """PCollection[list[RawMessage | RawRecord]] -> {EVENTS: list[Event], DEAD_LETTERS: DeadLetter}.

    Batch-wise (transforms/batches.py): each input list gives one list of its
    events (none if it has no event) and its dead letters one by one (they are
    rare, and the steps after them are per dead letter). Keeps the input's
    windowing, emits as each element arrives, and every input message lands in
    exactly one of the two outputs. ``run_started_ms``
    anchors the "more than 1 day in the future" rule, so a re-run decides alike.
    ``masking_config``: phone regions and user_id pseudonyms; by default the
    settings this process was configured with (``masking.configure``).
    """

    def __init__(self, validation: ValidationConfig, run_started_ms: int, registry_url: str | None = None,
                 masking_config: MaskingConfig | None = None):
        super().__init__()
        self._fn = _DecodeFn(validation, registry_url, run_started_ms, masking_config or masking.current())

    def expand(self, raw):
        return raw | "DecodeEvents" >> beam.ParDo(self._fn).with_output_types(Batch).with_outputs(DEAD_LETTERS, main=EVENTS)
