"""Import Snowplow exports: atomic event rows -> the contract's JSON events (web).

Snowplow's enriched events table (``atomic.events``, one column per field, as
exported to CSV from Postgres, Redshift, Snowflake, BigQuery or Databricks) is
mapped row by row to our JSON event form (contract section 1, channel
``web``), so a Snowplow history runs through ``journeys run --source file:``
like any JSONL backfill. The mapping is documented in docs/snowplow-parity.md.

- ``snowplow_to_events(rows, skipped=[])`` maps dict rows to events; a row
  that cannot be mapped is appended to ``skipped`` as a ``Skipped`` (row
  number, reason, detail): never an exception. ``convert_rows`` yields both,
  in row order.
- ``read_snowplow_csv(path)`` reads a CSV export (header row) as dict rows.
- ``import_snowplow(csv_path, jsonl_path)`` writes the events as JSONL and
  returns ``(written, skipped)`` with every skipped row's reason.

Times: ``event_time`` is ``derived_tstamp`` (Snowplow's device time corrected
for device clock skew; what Snowplow orders page views and sessions by), else
``dvce_created_tstamp``, else ``collector_tstamp``. All Snowplow timestamps of
the row are also kept in ``properties`` under their Snowplow names.
"""
from __future__ import annotations

import argparse
import csv
import itertools
import json
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, NamedTuple

# Snowplow event_name -> our web event_type. Other names are kept as they are
# (our pipeline keeps unknown event types); structured events (event_name
# "event") become "struct_event" with se_* in properties.
EVENT_TYPES = {
    "page_view": "page_view",
    "page_ping": "page_ping",
    "link_click": "click",
    "focus_form": "form_start",
    "submit_form": "form_submit",
    "site_search": "search",
    "application_error": "error",
    "transaction": "purchase",
}
STRUCT_EVENT_NAME = "event"
STRUCT_EVENT_TYPE = "struct_event"

TIME_COLUMNS = ("derived_tstamp", "dvce_created_tstamp", "collector_tstamp")
TIMESTAMP_COLUMNS = ("derived_tstamp", "dvce_created_tstamp", "dvce_sent_tstamp", "collector_tstamp",
                     "true_tstamp", "etl_tstamp", "load_tstamp", "refr_dvce_tstamp")
PAGE_CONTEXT_PREFIX = "contexts_com_snowplowanalytics_snowplow_web_page_1"
LINK_CLICK_PREFIX = "unstruct_event_com_snowplowanalytics_snowplow_link_click_1"
SITE_SEARCH_PREFIX = "unstruct_event_com_snowplowanalytics_snowplow_site_search_1"
FORM_PREFIXES = ("unstruct_event_com_snowplowanalytics_snowplow_submit_form_1",
                 "unstruct_event_com_snowplowanalytics_snowplow_focus_form_1")
ERROR_PREFIX = "unstruct_event_com_snowplowanalytics_snowplow_application_error_1"

# Columns copied into properties (strings, when not empty), under the same name.
PROPERTY_COLUMNS = (
    "app_id", "platform", "event", "event_name", "event_vendor", "event_version", "name_tracker", "v_tracker",
    "domain_sessionid", "domain_sessionidx", "network_userid",
    "page_urlhost", "refr_medium", "refr_source", "refr_urlhost",
    "mkt_term", "mkt_content", "mkt_clickid", "mkt_network",
    "se_category", "se_action", "se_label", "se_property", "se_value",
    "tr_currency", "tr_affiliation",
    "pp_xoffset_min", "pp_xoffset_max", "pp_yoffset_min", "pp_yoffset_max",
    "doc_width", "doc_height", "br_viewwidth", "br_viewheight", "br_lang",
    "dvce_screenwidth", "dvce_screenheight", "os_timezone", "geo_country", "geo_timezone",
)
# Never imported: personal data the journey model has no use for, and free text
# that would bypass the masking of page_url and search queries (query strings,
# fragments and search terms stay only inside page_url / referrer, which are masked).
NOT_IMPORTED = ("user_ipaddress", "user_fingerprint", "geo_latitude", "geo_longitude", "geo_zipcode",
                "page_urlquery", "page_urlfragment", "refr_urlquery", "refr_urlfragment", "refr_term")


class Unmappable(Exception):
    """A row that cannot become an event: ``reason`` (a short code) and ``detail``."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(reason, detail)
        self.reason = reason
        self.detail = detail


class Skipped(NamedTuple):
    """A row that could not be mapped: its 1-based data row number and why."""
    row: int
    reason: str
    detail: str = ""


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() in ("", "NULL", "null", r"\N"))


def _text(row: Mapping[str, Any], column: str) -> str | None:
    value = row.get(column)
    if _blank(value):
        return None
    return str(value)


def parse_snowplow_time(value: str) -> datetime:
    """A Snowplow timestamp as an aware UTC datetime.

    Accepts the export formats: ``2021-03-03 21:27:32.695`` (UTC, no offset),
    ISO-8601 with ``T``, ``Z`` or an offset, a trailing `` UTC`` (BigQuery),
    and any number of fraction digits. Raises ValueError otherwise.
    """
    text = value.strip()
    if text.endswith(" UTC"):
        text = text[:-4]
    text = text.replace("Z", "+00:00").replace("z", "+00:00")
    date_part, sep, rest = text.replace("T", " ", 1).partition(" ")
    if sep and "." in rest:  # normalise the fraction to 6 digits for fromisoformat
        clock, _, tail = rest.partition(".")
        digits = "".join(itertools.takewhile(str.isdigit, tail))
        offset = tail[len(digits):]
        rest = f"{clock}.{(digits + '000000')[:6]}{offset}"
    parsed = datetime.fromisoformat(f"{date_part} {rest}" if sep else date_part)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def iso_millis(moment: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SS.mmmZ`` (milliseconds, truncated)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _first_json_object(row: Mapping[str, Any], prefix: str) -> dict | None:
    """The first object of the first non-empty column starting with ``prefix`` (a context or an event)."""
    for column, value in row.items():
        if column and column.startswith(prefix) and not _blank(value):
            try:
                parsed = json.loads(value)
            except (TypeError, ValueError):
                return None
            if isinstance(parsed, list):
                parsed = parsed[0] if parsed else None
            return parsed if isinstance(parsed, dict) else None
    return None


def page_view_id(row: Mapping[str, Any]) -> str | None:
    """The web_page context's id (Snowplow's page_view_id), else None."""
    context = _first_json_object(row, PAGE_CONTEXT_PREFIX)
    value = context.get("id") if context else None
    return value if isinstance(value, str) and value else None


def _int(value: Any) -> int | None:
    if _blank(value):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if number.is_integer() else None


def _float(value: Any) -> float | None:
    if _blank(value):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def event_type_of(row: Mapping[str, Any]) -> str | None:
    name = _text(row, "event_name") or _text(row, "event")
    if name is None:
        return None
    if name in (STRUCT_EVENT_NAME, "struct"):  # event_name "event"; older exports only have event "struct"
        return STRUCT_EVENT_TYPE
    return EVENT_TYPES.get(name, name)


def map_row(row: Mapping[str, Any], *, time_column: str = TIME_COLUMNS[0]) -> dict:
    """One Snowplow row -> one JSON event. Raises ``Unmappable`` when it cannot be mapped."""
    event_id = _text(row, "event_id")
    if event_id is None:
        raise Unmappable("missing_event_id", "event_id is empty")
    event_type = event_type_of(row)
    if event_type is None:
        raise Unmappable("missing_event_name", "event_name and event are empty")
    platform = _text(row, "platform")
    if platform is not None and platform != "web":
        raise Unmappable("unsupported_platform", f"platform {platform!r}: only web events are imported")
    order = (time_column,) + tuple(c for c in TIME_COLUMNS if c != time_column)
    time_source = next((c for c in order if _text(row, c) is not None), None)
    if time_source is None:
        raise Unmappable("missing_timestamp", f"none of {', '.join(order)} is set")
    properties: dict[str, str] = {}
    for column in TIMESTAMP_COLUMNS:
        value = _text(row, column)
        if value is None:
            continue
        try:
            properties[column] = iso_millis(parse_snowplow_time(value))
        except ValueError:
            if column == time_source:
                raise Unmappable("invalid_timestamp", f"{column} {value[:64]!r} is not a timestamp") from None
            properties[column] = value
    anonymous_id = _text(row, "domain_userid")
    if anonymous_id is None:
        anonymous_id = _text(row, "network_userid")
        if anonymous_id is None:
            raise Unmappable("missing_anonymous_id", "domain_userid and network_userid are empty")
        properties["anonymous_id_source"] = "network_userid"
    if time_source != time_column:
        properties["event_time_source"] = time_source
    for column in PROPERTY_COLUMNS:
        value = _text(row, column)
        if value is not None:
            properties[column] = value
    pv_id = page_view_id(row)
    if pv_id is not None:
        properties["page_view_id"] = pv_id
    event: dict[str, Any] = {
        "event_id": event_id,
        "event_type": event_type,
        "channel": "web",
        "event_time": properties[time_source],
        "anonymous_id": anonymous_id,
        "user_id": _text(row, "user_id"),
        "page_url": _text(row, "page_url"),
        "page_title": _text(row, "page_title"),
        "referrer": _text(row, "page_referrer"),
        "utm_source": _text(row, "mkt_source"),
        "utm_medium": _text(row, "mkt_medium"),
        "utm_campaign": _text(row, "mkt_campaign"),
        "user_agent": _text(row, "useragent"),
        "properties": properties,
    }
    link = _first_json_object(row, LINK_CLICK_PREFIX)
    if link:
        event["element_id"] = link.get("elementId") or None
        if link.get("targetUrl"):
            properties["target_url"] = str(link["targetUrl"])
    search = _first_json_object(row, SITE_SEARCH_PREFIX)
    if search:
        terms = search.get("terms")
        event["search_query"] = " ".join(map(str, terms)) if isinstance(terms, list) else None
        event["search_results"] = _int(search.get("totalResults"))
    for prefix in FORM_PREFIXES:
        form = _first_json_object(row, prefix)
        if form:
            event["form_id"] = form.get("formId") or None
    error = _first_json_object(row, ERROR_PREFIX)
    if error:
        event["error_type"] = str(error["exceptionName"]) if error.get("exceptionName") else None
        event["error_code"] = str(error["message"])[:256] if error.get("message") else None
    if event_type == "purchase":
        event["order_id"] = _text(row, "tr_orderid")
        event["revenue"] = _float(row.get("tr_total"))
    return {k: v for k, v in event.items() if v is not None}


def convert_rows(rows: Iterable[Mapping[str, Any]], *,
                 time_column: str = TIME_COLUMNS[0]) -> Iterator[dict | Skipped]:
    """Each row -> a JSON event (dict), or a ``Skipped`` with the 1-based row number and reason."""
    if time_column not in TIME_COLUMNS:
        raise ValueError(f"time_column must be one of {TIME_COLUMNS}")
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, Mapping):
            yield Skipped(number, "not_a_row", type(row).__name__)
            continue
        try:
            yield map_row(row, time_column=time_column)
        except Unmappable as error:
            yield Skipped(number, error.reason, error.detail)
        except Exception as error:  # noqa: BLE001 - a bad row is reported, never a crash
            yield Skipped(number, "unmappable", f"{type(error).__name__}: {error}"[:200])


def snowplow_to_events(rows: Iterable[Mapping[str, Any]], *, skipped: list[Skipped] | None = None,
                       time_column: str = TIME_COLUMNS[0]) -> Iterator[dict]:
    """The JSON events of ``rows``; rows that cannot be mapped are appended to ``skipped`` (if given)."""
    for item in convert_rows(rows, time_column=time_column):
        if isinstance(item, Skipped):
            if skipped is not None:
                skipped.append(item)
        else:
            yield item


def read_snowplow_csv(path: str | Path) -> Iterator[dict]:
    """The rows of a Snowplow atomic events CSV export (with a header row) as dicts."""
    csv.field_size_limit(max(csv.field_size_limit(), 16 * 1024 * 1024))
    with open(path, newline="", encoding="utf-8-sig") as handle:
        yield from csv.DictReader(handle)


def import_snowplow(csv_path: str | Path, jsonl_path: str | Path, *,
                    time_column: str = TIME_COLUMNS[0]) -> tuple[int, list[Skipped]]:
    """Converts a Snowplow CSV export to our JSONL events. Returns (events written, skipped rows).

    A file that stops parsing part way (bad quoting, not UTF-8) keeps what was
    converted before and reports ``unreadable_csv`` with the row number it was
    reading (rows are decoded in blocks, so the bad bytes are there or later).
    """
    written = 0
    skipped: list[Skipped] = []
    rows = read_snowplow_csv(csv_path)
    read = 0

    def counted():
        nonlocal read
        for row in rows:
            read += 1
            yield row

    with open(jsonl_path, "w", encoding="utf-8") as out:
        try:
            for item in convert_rows(counted(), time_column=time_column):
                if isinstance(item, Skipped):
                    skipped.append(item)
                    continue
                out.write(json.dumps(item, ensure_ascii=False, sort_keys=True) + "\n")
                written += 1
        except (csv.Error, UnicodeDecodeError) as error:
            skipped.append(Skipped(read + 1, "unreadable_csv", f"{type(error).__name__}: {error}"[:200]))
    return written, skipped


def run_import(source: str | Path, target: str | Path, *, time_column: str = TIME_COLUMNS[0]) -> int:
    """``journeys import snowplow``: converts, prints each skipped row and the count; exit code 0, or 1 if any
    row was skipped or the file cannot be opened."""
    try:
        written, skipped = import_snowplow(source, target, time_column=time_column)
    except OSError as error:
        print(f"cannot import {source}: {error}", file=sys.stderr)
        return 1
    for item in skipped:
        print(f"row {item.row}: skipped, {item.reason}: {item.detail}", file=sys.stderr)
    print(f"rows {written + len(skipped)} = events {written} + skipped {len(skipped)}")
    return 1 if skipped else 0


def main(argv: list[str] | None = None) -> int:
    """``python -m journeys.snowplow_import --from CSV --to JSONL``: what ``journeys import snowplow`` does."""

    parser = argparse.ArgumentParser(prog="journeys import snowplow",
                                     description="Convert a Snowplow atomic events CSV export to JSONL events.")
    parser.add_argument("--from", dest="source", required=True, help="Snowplow atomic events CSV (header row)")
    parser.add_argument("--to", dest="target", required=True, help="JSONL file to write")
    parser.add_argument("--time-column", default=TIME_COLUMNS[0], choices=TIME_COLUMNS,
                        help="the Snowplow timestamp that becomes event_time (default derived_tstamp)")
    args = parser.parse_args(argv)
    return run_import(args.source, args.target, time_column=args.time_column)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
