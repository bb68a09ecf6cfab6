"""ParseEvents: raw input to validated events, with a dead-letter output."""
from __future__ import annotations

import apache_beam as beam
from apache_beam.metrics import Metrics

from journeys.core.config import MaskingConfig, ValidationConfig
from journeys.core.events import EventRules
from journeys.rules import masking
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

    def process(self, item):
        self._input.inc()
        result = to_event_or_dead_letter(item, self._catalog, self._rules, self._run_started_ms)
        if isinstance(result, DeadLetter):
            self._dead.inc()
            Metrics.counter(NAMESPACE, f"dead_letter.{result.reason}").inc()
            yield beam.pvalue.TaggedOutput(DEAD_LETTERS, result)
        else:
            self._decoded.inc()
            yield result


class ParseEvents(beam.PTransform):
    """PCollection[RawMessage | RawRecord] -> {EVENTS: Event, DEAD_LETTERS: DeadLetter}.

    Element-wise: keeps the input's windowing, emits as each element arrives,
    and every input lands in exactly one of the two outputs. ``run_started_ms``
    anchors the "more than 1 day in the future" rule, so a re-run decides alike.
    ``masking_config``: phone regions and user_id pseudonyms; by default the
    settings this process was configured with (``masking.configure``).
    """

    def __init__(self, validation: ValidationConfig, run_started_ms: int, registry_url: str | None = None,
                 masking_config: MaskingConfig | None = None):
        super().__init__()
        self._fn = _DecodeFn(validation, registry_url, run_started_ms, masking_config or masking.current())

    def expand(self, raw):
        return raw | "DecodeEvents" >> beam.ParDo(self._fn).with_outputs(DEAD_LETTERS, main=EVENTS)
