"""One typed configuration object with the contract's defaults.

Loaded from a JSON or TOML file (``--config``) and then overridden by flags.
Every threshold the pipeline uses lives here; code reads it, never a literal.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomllib

from journeys.core.config_checks import build
from journeys.core.errors import ConfigError
from journeys.core.task_rules import DEFAULT_TASKS, TaskRule


@dataclass(frozen=True)
class TopicConfig:
    web: str = "web.events"
    app: str = "app.events"
    chat: str = "chat.events"
    dead_letters: str = "journeys.dead_letters"
    partitions: int = 3

    def by_channel(self) -> dict[str, str]:
        return {"web": self.web, "app": self.app, "chat": self.chat}

    def by_channel_topic(self) -> dict[str, str]:
        return {topic: channel for channel, topic in self.by_channel().items()}


@dataclass(frozen=True)
class ValidationConfig:
    """Contract section 4: what makes a record a dead letter."""
    min_event_time: str = "2000-01-01T00:00:00Z"
    max_future_s: int = 86_400
    max_string_bytes: int = 65_536


@dataclass(frozen=True)
class KafkaConfig:
    consumer_group: str = "journeys"
    registry_url: str | None = None
    poll_timeout_ms: int = 1_000
    max_poll_records: int = 5_000
    # Bytes a fetch may bring back, per partition and in all: kafka-python's 1 MiB per partition made a
    # bounded read wait for a round trip every ~1,700 messages.
    max_partition_fetch_bytes: int = 16 * 1024 * 1024
    fetch_max_bytes: int = 64 * 1024 * 1024
    request_timeout_ms: int = 30_000
    # A bounded run lands its planned offsets in consecutive chunks of at most this many messages
    # (pipelines/bounded_chunks.py): land, commit, then the next; a run's memory follows this, not its input.
    # Smaller chunks rebuild a returning customer from its stored history more often (README, Benchmarks).
    max_events_per_chunk: int = 50_000
    # Security (README, Kafka security); journeys/core/kafka_settings.py makes every client's kwargs.
    # The password itself is never a setting: it is read, when a client is made, from the
    # environment variable ``sasl_password_env`` if set, else from the first line of ``sasl_password_file``.
    security_protocol: str = "PLAINTEXT"  # PLAINTEXT, SSL or SASL_SSL
    sasl_mechanism: str = "SCRAM-SHA-512"  # or SCRAM-SHA-256; used with SASL_SSL only
    sasl_username: str | None = None
    sasl_password_env: str = "JOURNEYS_KAFKA_PASSWORD"
    sasl_password_file: str | None = None
    ssl_cafile: str | None = None  # PEM CA bundle that signed the brokers' certificates (default: the system's)
    ssl_certfile: str | None = None  # PEM client certificate, for brokers that require TLS client auth
    ssl_keyfile: str | None = None  # its PEM private key (unencrypted)
    ssl_check_hostname: bool = True


@dataclass(frozen=True)
class JourneyConfig:
    """Contract section 2: journeys, time on page, engagement."""
    inactivity_gap_s: int = 1_800  # more than this apart starts a new journey; exactly this does not
    max_journey_s: int = 86_400  # an event this long or longer after the first starts a new journey
    heartbeat_s: int = 10  # Snowplow page ping interval
    min_visit_s: int = 5  # Snowplow minimum visit length
    engaged_min_page_views: int = 2
    engaged_min_time_s: int = 10


@dataclass(frozen=True)
class FrictionConfig:
    """Contract section 2 friction rules; ``weights`` make the friction score."""
    rage_click_min_clicks: int = 3
    rage_click_max_interval_ms: int = 1_000  # each click strictly less than this after the previous
    rage_click_radius_px: int = 30  # Manhattan distance strictly less than this
    quick_back_max_s: float = 10.0  # time on B strictly under this
    page_loop_min_views: int = 3
    search_refine_min_searches: int = 3
    search_refine_window_s: float = 60.0  # each search strictly less than this after the previous
    long_wait_s: float = 60.0  # strictly more than this from handoff_requested to agent_joined
    repeat_contact_window_s: int = 86_400  # a conversation_start strictly less than this after the previous
    weights: dict = field(default_factory=lambda: {
        "rage_click": 2.0, "error": 2.0, "form_error": 1.0, "form_abandon": 2.0, "quick_back": 1.0,
        "page_loop": 1.0, "search_no_results": 1.0, "search_refine": 1.0, "bot_escalation": 2.0,
        "long_wait": 3.0, "unresolved_chat": 3.0, "channel_switch": 1.0, "repeat_contact": 2.0,
    })


@dataclass(frozen=True)
class EffortConfig:
    """Effort score 1 (effortless) to 5 (very hard); the formula is in journeys/scores.py."""
    friction_points_per_step: float = 3.0  # each full step of friction score adds 1
    long_journey_s: int = 1_800  # a journey at least this long adds 1
    unmet_outcome_step: int = 1  # escalated or unresolved without a conversion adds this
    lowest: int = 1
    highest: int = 5

    def __post_init__(self):
        if isinstance(self.lowest, int) and isinstance(self.highest, int) and self.lowest >= self.highest:
            raise ConfigError("effort.highest", self.highest, f"an integer > effort.lowest ({self.lowest})")


@dataclass(frozen=True)
class AcquisitionConfig:
    """GA4 default channel grouping inputs; lists match hosts by suffix."""
    search_engines: tuple = ("google.", "bing.com", "duckduckgo.com", "yahoo.", "baidu.com", "yandex.",
                             "ecosia.org", "search.brave.com", "startpage.com", "naver.com", "seznam.cz")
    social_sites: tuple = ("facebook.com", "fb.com", "instagram.com", "t.co", "twitter.com", "x.com",
                           "linkedin.com", "lnkd.in", "pinterest.", "reddit.com", "tiktok.com",
                           "youtube.com", "snapchat.com", "threads.net", "whatsapp.com", "messenger.com")
    social_mediums: tuple = ("social", "social-network", "social-media", "sm", "social network",
                             "social media", "paid_social", "paid-social", "paidsocial")
    email_values: tuple = ("email", "e-mail", "e_mail", "e mail", "newsletter")
    display_mediums: tuple = ("display", "banner", "expandable", "interstitial", "cpm")
    paid_medium_pattern: str = r"^(.*cp.*|ppc|retargeting|paid.*)$"
    affiliate_mediums: tuple = ("affiliate", "affiliates")


def _records(kind: type, items) -> tuple:
    """A file gives each rule or step as a table of lists; they are frozen ``kind`` records of tuples."""
    return tuple(item if isinstance(item, kind)
                 else kind(**{k: tuple(v) if isinstance(v, list) else v for k, v in item.items()})
                 for item in items)


@dataclass(frozen=True)
class TaskConfig:
    """Which pages, screens, events, chat intents and forms make each task (task_effort_daily)."""
    rules: tuple = DEFAULT_TASKS

    def __post_init__(self):
        object.__setattr__(self, "rules", _records(TaskRule, self.rules))


@dataclass(frozen=True)
class QualityConfig:
    """Great Expectations gates: suites and policy in schemas/quality (or files given here)."""
    enabled: bool = True
    events_suite: str = "events"
    aggregates_suite: str = "aggregates"
    policy_path: str | None = None  # default schemas/quality/policy.json
    html_dir: str | None = None  # write the latest results as an HTML page here


@dataclass(frozen=True)
class FunnelStep:
    """One funnel step: a page or screen view, or an event, that the journey reaches after the previous step."""
    name: str
    pages: tuple = ()  # web paths, exact; a trailing "*" makes a prefix ("/products/*")
    screens: tuple = ()  # app screen names, exact
    events: tuple = ()  # event types (purchase, login, form_submit, ...)


# The synthetic shop's purchase path (journeys/generators/catalogue.py PAGES).
DEFAULT_FUNNEL = (
    FunnelStep("home", pages=("/",), screens=("home",)),
    FunnelStep("product", pages=("/products/*",), screens=("product_detail",)),
    FunnelStep("cart", pages=("/cart",), screens=("cart",)),
    FunnelStep("checkout", pages=("/checkout",), screens=("checkout",)),
    FunnelStep("purchase", events=("purchase",)),
)


@dataclass(frozen=True)
class DashboardConfig:
    """`journeys report --html`: the funnel's steps, in order (``[[dashboard.funnel_steps]]`` in TOML)."""
    funnel_steps: tuple = DEFAULT_FUNNEL

    def __post_init__(self):
        object.__setattr__(self, "funnel_steps", _records(FunnelStep, self.funnel_steps))
        if not self.funnel_steps:
            raise ValueError("dashboard.funnel_steps: at least one step")


@dataclass(frozen=True)
class MaskingConfig:
    """Contract section 5: personal data masking, and optional user_id pseudonyms (README, Personal data)."""
    # National phone formats are recognised for these regions (ISO 3166 codes); "+CC" numbers always are.
    phone_regions: tuple = ("US", "GB", "DE", "FR", "ES", "IT", "NL", "IN", "BR", "AU")
    pseudonymise_user_id: bool = False  # replace user_id by HMAC-SHA256(key, user_id) at decode
    pseudonym_key_env: str = "JOURNEYS_PSEUDONYM_KEY"  # the key, if this variable is set...
    pseudonym_key_file: str | None = None  # ...else the first line of this file


@dataclass(frozen=True)
class StreamingConfig:
    """``journeys run --streaming`` (README, Streaming): micro-batches landed with the warehouse as the state."""
    micro_batch_s: int = 5  # a pane of raw messages fires (and lands) this often, in processing time (whole s)
    poll_batch_s: float = 1.0  # one read call polls this long, then checkpoints itself (defer_remainder)
    resume_delay_s: float = 0.2  # when caught up: how soon the runner calls the reader again
    out_of_orderness_s: float = 60.0  # the watermark trails the newest event time by this much
    idle_partition_s: float = 30.0  # a partition quiet this long moves its watermark to now - out_of_orderness
    end_offsets_poll_s: float = 1.0  # the driver samples the topics' end offsets this often (--idle-timeout)
    partition_discovery_s: float = 30.0  # the topics' partitions are listed this often; new ones are read


@dataclass(frozen=True)
class Config:
    topics: TopicConfig = field(default_factory=TopicConfig)
    validation: ValidationConfig = field(default_factory=ValidationConfig)
    kafka: KafkaConfig = field(default_factory=KafkaConfig)
    journey: JourneyConfig = field(default_factory=JourneyConfig)
    friction: FrictionConfig = field(default_factory=FrictionConfig)
    effort: EffortConfig = field(default_factory=EffortConfig)
    acquisition: AcquisitionConfig = field(default_factory=AcquisitionConfig)
    tasks: TaskConfig = field(default_factory=TaskConfig)
    quality: QualityConfig = field(default_factory=QualityConfig)
    masking: MaskingConfig = field(default_factory=MaskingConfig)
    dashboard: DashboardConfig = field(default_factory=DashboardConfig)
    streaming: StreamingConfig = field(default_factory=StreamingConfig)

    @classmethod
    def load(cls, path: str | Path | None = None, **overrides: Any) -> "Config":
        """Defaults, then the file, then ``overrides`` as ``section__name=value``."""
        data: dict[str, Any] = {}
        if path:
            try:
                text = Path(path).read_text(encoding="utf-8")
                data = tomllib.loads(text) if str(path).endswith(".toml") else json.loads(text)
            except (OSError, UnicodeDecodeError) as error:
                raise ConfigError("--config", str(path), message=f"config file {path}: cannot be read "
                                  f"({getattr(error, 'strerror', None) or type(error).__name__})") from error
            except ValueError as error:  # tomllib.TOMLDecodeError, json.JSONDecodeError
                kind = "TOML" if str(path).endswith(".toml") else "JSON"
                raise ConfigError("--config", str(path), message=f"config file {path}: not valid {kind}: "
                                  f"{error}") from error
            if not isinstance(data, dict):
                raise ConfigError("config", data, "a table of settings (a JSON object)")
        for key, value in overrides.items():
            if value is None:
                continue
            section, _, name = key.partition("__")
            data.setdefault(section, {})[name] = value
        return build(cls, data, "config")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
