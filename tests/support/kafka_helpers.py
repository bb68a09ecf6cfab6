"""Config files that point a run at a test's own Kafka topics."""
import uuid


def topics_toml(topics, group=None, extra=""):
    """TOML for the ``kafka_topics`` fixture's topics and a fresh (or given) consumer group."""
    group = group or f"test-{uuid.uuid4().hex[:8]}"
    return f"""
[topics]
web = "{topics['web']}"
app = "{topics['app']}"
chat = "{topics['chat']}"
dead_letters = "{topics['dead_letters']}"

[kafka]
consumer_group = "{group}"
{extra}"""
