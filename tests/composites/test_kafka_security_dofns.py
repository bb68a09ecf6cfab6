"""The Kafka DoFns carry where the password is, never the password: repr, display data, pickles, the pipeline proto."""
import apache_beam as beam
import pytest
from apache_beam.internal import pickler
from apache_beam.transforms.display import DisplayData

from journeys.core.config import KafkaConfig
from journeys.transforms.dead_letter_publish import PublishDeadLetters, _PublishFn
from journeys.transforms.kafka_read import PartitionRange, ReadKafkaMessages, _ReadPartitionRangeFn

PASSWORD = "dofn-secret-" + "7" * 16
KAFKA = KafkaConfig(security_protocol="SASL_SSL", sasl_username="journeys")
BOOTSTRAP = "127.0.0.1:1"


@pytest.fixture(autouse=True)
def password_in_the_environment(monkeypatch):
    monkeypatch.setenv("JOURNEYS_KAFKA_PASSWORD", PASSWORD)


@pytest.mark.parametrize("fn", [
    _ReadPartitionRangeFn(BOOTSTRAP, KAFKA, {"web.events": "web"}, 60.0),
    _PublishFn(BOOTSTRAP, "journeys.dead_letters", KAFKA),
], ids=["read", "publish"])
def test_a_dofn_shows_and_pickles_no_password(fn):
    assert PASSWORD not in repr(fn) and PASSWORD not in repr(vars(fn))
    assert PASSWORD not in str(DisplayData.create_from(fn).items)
    assert PASSWORD not in str(DisplayData.create_from(beam.ParDo(fn)).items)
    assert PASSWORD.encode() not in pickler.dumps(fn)
    assert repr(KAFKA).count("JOURNEYS_KAFKA_PASSWORD") == 1  # where it is read from, by name


def test_the_pipeline_graph_holds_no_password():
    pipeline = beam.Pipeline()
    ranges = [PartitionRange("web.events", 0, 0, 5)]
    messages = pipeline | ReadKafkaMessages(BOOTSTRAP, ranges, KAFKA, {"web.events": "web"})
    _ = messages | beam.Map(lambda m: m) | PublishDeadLetters(BOOTSTRAP, "journeys.dead_letters", KAFKA)
    proto = pipeline.to_runner_api()
    assert PASSWORD.encode() not in proto.SerializeToString()
    assert PASSWORD not in str(pipeline.options.get_all_options())
