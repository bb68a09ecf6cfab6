"""Configuration is checked at load: types from the dataclass fields, ranges from config.LIMITS.

A bad file or flag is a ConfigError naming the key, the value and what is
allowed; the CLI prints it as one line and exits 2 (tests/end_to_end/test_cli_errors.py).
"""
import json

import pytest

from journeys.commands.cli import load_config
from journeys.core.config import Config
from journeys.core.errors import ConfigError


def load(tmp_path, text, suffix=".toml"):
    path = tmp_path / f"c{suffix}"
    path.write_text(text)
    return load_config(path)  # what the CLI loads: Config.load, then the quality policy file


@pytest.mark.parametrize("toml, key, value, allowed", [
    ('[journey]\ninactivity_gap_s = "thirty"', "journey.inactivity_gap_s", '"thirty"', "an integer >= 1"),
    ("[journey]\ninactivity_gap_s = 0", "journey.inactivity_gap_s", "0", "an integer >= 1"),
    ("[journey]\ninactivity_gap_s = -30", "journey.inactivity_gap_s", "-30", "an integer >= 1"),
    ("[journey]\ninactivity_gap_s = 90.5", "journey.inactivity_gap_s", "90.5", "an integer >= 1"),
    ("[journey]\nheartbeat_s = true", "journey.heartbeat_s", "true", "an integer >= 1"),
    ("[friction]\nquick_back_max_s = 0", "friction.quick_back_max_s", "0", "a number > 0"),
    ("[friction]\nlong_wait_s = nan", "friction.long_wait_s", "NaN", "a number >= 0"),
    ("[friction]\nrage_click_min_clicks = 1", "friction.rage_click_min_clicks", "1", "an integer >= 2"),
    ("[friction]\nweights = { long_wait = -1.0 }", "friction.weights.long_wait", "-1.0", "a number >= 0"),
    ('[friction]\nweights = { long_wait = "high" }', "friction.weights.long_wait", '"high"', "a number >= 0"),
    ("[topics]\npartitions = 0", "topics.partitions", "0", "an integer >= 1"),
    ('[topics]\nweb = ""', "topics.web", '""', "a non-empty string"),
    ("[topics]\nweb = 5", "topics.web", "5", "a non-empty string"),
    ("[kafka]\nrequest_timeout_ms = 0", "kafka.request_timeout_ms", "0", "an integer >= 1"),
    ('[kafka]\nsecurity_protocol = "SASL_PLAINTEXT"', "kafka.security_protocol", '"SASL_PLAINTEXT"',
     "one of PLAINTEXT, SASL_SSL, SSL"),
    ('[kafka]\nssl_check_hostname = "yes"', "kafka.ssl_check_hostname", '"yes"', "true or false"),
    ('[quality]\nenabled = 1', "quality.enabled", "1", "true or false"),
    ('[quality]\nevents_suite = "no-such-suite"', "quality.events_suite", '"no-such-suite"', "a suite name"),
    ('[validation]\nmin_event_time = "yesterday"', "validation.min_event_time", '"yesterday"', "an ISO-8601 time"),
    ('[acquisition]\npaid_medium_pattern = "(["', "acquisition.paid_medium_pattern", '"(["',
     "a regular expression"),
    ('[acquisition]\nsearch_engines = "google."', "acquisition.search_engines", '"google."', "a list"),
    ('[acquisition]\nsearch_engines = ["google.", 3]', "acquisition.search_engines[1]", "3", "a string"),
    ('[masking]\nphone_regions = ["US", "XX"]', "masking.phone_regions[1]", '"XX"', "one of "),
    ("[effort]\nlowest = 5\nhighest = 5", "effort.highest", "5", "an integer > effort.lowest (5)"),
    ('journey = 5', "journey", "5", "a table of settings"),
    ("[dashboard]\nfunnel_steps = []", "dashboard.funnel_steps", "[]", "a list of at least 1"),
])
def test_bad_values_name_key_value_and_what_is_allowed(tmp_path, toml, key, value, allowed):
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, toml)
    message = str(caught.value)
    assert caught.value.key == key, message
    assert message.startswith(f"{key} = {value}: expected "), message
    assert allowed in message, message


def test_unknown_names_are_errors(tmp_path):
    with pytest.raises(ConfigError, match=r"friction.weights: unknown key \"slow_page\"; known: bot_escalation"):
        load(tmp_path, "[friction]\nweights = { slow_page = 1.0 }")
    with pytest.raises(ConfigError, match=r"config.tasks.rules\[0\]: unknown setting\(s\) \['urls'\]"):
        load(tmp_path, '[[tasks.rules]]\nname = "x"\nurls = ["/a"]')
    with pytest.raises(ConfigError, match=r"^dashboard.funnel_steps\[0\].name: required$"):
        load(tmp_path, '[[dashboard.funnel_steps]]\npages = ["/"]')
    with pytest.raises(ConfigError, match=r"^config: unknown setting\(s\) \['jouney'\]"):
        load(tmp_path, "[jouney]\ninactivity_gap_s = 60")


def test_a_policy_file_with_an_unknown_policy_is_an_error(tmp_path):
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"version": 1, "suites": {"events": {"default": "explode"}}}))
    with pytest.raises(ConfigError, match=r"^quality.policy_path = .*policy.json\": expected a readable policy"):
        load(tmp_path, f'[quality]\npolicy_path = "{policy}"')


def test_files_that_cannot_be_read_or_parsed(tmp_path):
    with pytest.raises(ConfigError, match=r"^config file .*missing.toml: cannot be read \(No such file"):
        Config.load(tmp_path / "missing.toml")
    with pytest.raises(ConfigError, match=r"^config file .*c.toml: not valid TOML: "):
        load(tmp_path, "[journey\n")
    with pytest.raises(ConfigError, match=r"^config file .*c.json: not valid JSON: "):
        load(tmp_path, "{", suffix=".json")
    with pytest.raises(ConfigError, match=r"^config = \[1\]: expected a table of settings"):
        load(tmp_path, "[1]", suffix=".json")
    (tmp_path / "bin.toml").write_bytes(b"\xff\xfe[journey]")
    with pytest.raises(ConfigError, match="cannot be read"):
        Config.load(tmp_path / "bin.toml")


def test_overrides_are_checked_like_the_file():
    with pytest.raises(ConfigError, match=r"^journey.inactivity_gap_s = \"x\": expected an integer >= 1$"):
        Config.load(journey__inactivity_gap_s="x")
    assert Config.load(journey__inactivity_gap_s=60).journey.inactivity_gap_s == 60


def test_good_values_are_typed(tmp_path):
    config = load(tmp_path, "[friction]\nquick_back_max_s = 5\nweights = { long_wait = 4 }\n"
                            '[masking]\nphone_regions = ["US"]\n[kafka]\nsecurity_protocol = "SSL"\n')
    assert config.friction.quick_back_max_s == 5.0 and isinstance(config.friction.quick_back_max_s, float)
    assert config.friction.weights["long_wait"] == 4.0 and config.masking.phone_regions == ("US",)


def test_every_default_passes_its_own_checks(tmp_path):
    # The defaults written out as a file load back to the same configuration.
    path = tmp_path / "defaults.json"
    path.write_text(json.dumps(Config().to_dict()))
    assert Config.load(path) == Config()
