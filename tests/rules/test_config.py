"""The typed configuration: contract defaults, files, overrides, clear errors."""
import pytest

from journeys.core.config import Config


def test_defaults_are_the_contracts():
    config = Config.load()
    assert config.topics.by_channel() == {"web": "web.events", "app": "app.events", "chat": "chat.events"}
    assert (config.journey.inactivity_gap_s, config.journey.max_journey_s) == (1_800, 86_400)
    assert (config.journey.heartbeat_s, config.journey.min_visit_s) == (10, 5)
    assert config.friction.rage_click_max_interval_ms == 1_000 and config.friction.long_wait_s == 60
    assert config.validation.max_string_bytes == 65_536
    assert set(config.friction.weights) == {
        "rage_click", "error", "form_error", "form_abandon", "quick_back", "page_loop", "search_no_results",
        "search_refine", "bot_escalation", "long_wait", "unresolved_chat", "channel_switch", "repeat_contact"}


def test_a_toml_file_overrides_and_merges(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[journey]\ninactivity_gap_s = 900\n[friction]\nweights = { long_wait = 5.0 }\n'
                    '[acquisition]\nsearch_engines = ["kagi.com"]\n')
    config = Config.load(path, topics__web="w.ev")
    assert config.journey.inactivity_gap_s == 900 and config.journey.heartbeat_s == 10
    assert config.friction.weights["long_wait"] == 5.0 and config.friction.weights["error"] == 2.0
    assert config.acquisition.search_engines == ("kagi.com",)
    assert config.topics.web == "w.ev"


def test_unknown_keys_are_named(tmp_path):
    path = tmp_path / "c.json"
    path.write_text('{"journey": {"inactivity_gap": 900}}')
    with pytest.raises(ValueError, match=r"config.journey: unknown setting\(s\) \['inactivity_gap'\]"):
        Config.load(path)


def test_task_rules_come_from_the_file(tmp_path):
    from journeys.core.task_rules import DEFAULT_TASKS, TaskRule

    assert {rule.name for rule in Config.load().tasks.rules} == {
        "find_info", "manage_account", "offers", "purchase", "self_service", "support_ticket", "live_agent",
        "phone_escalation"} == {rule.name for rule in DEFAULT_TASKS}
    path = tmp_path / "c.toml"
    path.write_text('[[tasks.rules]]\nname = "purchase"\npages = ["/basket"]\ncompletion = ["purchase"]\n')
    (rule,) = Config.load(path).tasks.rules
    assert rule == TaskRule(name="purchase", pages=("/basket",), completion=("purchase",))
