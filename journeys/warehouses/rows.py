"""Rows as the warehouse stores them: events masked, in the tables' column names."""
from __future__ import annotations

import json

import orjson

from journeys.core.events import Event, event_to_record
from journeys.rules.masking import mask_text, mask_url
from journeys.wire.decode import DeadLetter


# Free text a tracker fills in (contract section 5); URLs are masked as URLs.
# Ids and labels the pipeline reads (event_id, anonymous_id, user_id, channel,
# event_type, order_id, conversation_id, sender, resolution), device facts
# (os, app_version, user_agent) and numbers are not free text and stay as sent.
TEXT_FIELDS = ("page_title", "screen_name", "element_id", "form_id", "search_query", "error_type",
               "error_code", "intent", "utm_source", "utm_medium", "utm_campaign")
URL_FIELDS = ("page_url", "referrer")


def to_json(value) -> str:
    """``value`` as one line of JSON: orjson (a tenth of json's time), or json for what orjson refuses
    (integers beyond 64 bits, lone surrogates), so any value still gives a line."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return json.dumps(value)


def stored_event(event: Event) -> dict:
    """The event as the warehouse keeps it: personal data masked, no raw chat text."""
    record = event_to_record(event)
    record.update({name: mask_text(getattr(event, name)) for name in TEXT_FIELDS})
    record.update({name: mask_url(getattr(event, name)) for name in URL_FIELDS})
    record.update(message_text=None,
                  properties={mask_text(key): mask_text(value) for key, value in event.properties.items()},
                  source=event.source, partition=event.partition, offset=event.offset)
    return record


def event_row(event: Event) -> str:
    """An ``events`` table row as a JSON line."""
    return to_json({"event_id": event.event_id, "event_type": event.event_type, "channel": event.channel,
                       "event_time": event.event_time, "anonymous_id": event.anonymous_id,
                       "user_id": event.user_id, "record": stored_event(event), "source": event.source,
                       "partition": event.partition, "offset": event.offset})


def dead_letter_row(dead: DeadLetter) -> str:
    """A ``dead_letters`` table row as a JSON line (the raw bytes stay out)."""
    return to_json({"source": dead.source, "partition": dead.partition, "offset": dead.offset,
                       "received_at": dead.received_at, "reason": dead.reason, "detail": dead.detail,
                       "payload": dead.payload})


def model_row(row) -> str:
    """A journeys, page_views or friction_events row (a NamedTuple of the model) as a JSON line."""
    return to_json(row._asdict())


def customer_row(customer) -> str:
    """A rebuilt customer (CustomerJourneys) and its devices as a JSON line."""
    return to_json({"customer_id": customer.customer_id, "devices": list(customer.devices)})
