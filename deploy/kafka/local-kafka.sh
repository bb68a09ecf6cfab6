#!/usr/bin/env bash
# A local single-node Apache Kafka broker (KRaft mode) on 127.0.0.1, from the
# official jars on Maven Central (pom.xml beside this file):
#   deploy/kafka/local-kafka.sh start|stop|status [--data-dir DIR] [--port P]
# Storage is formatted on first start; data stays in .journeys/kafka.
exec "$(dirname "$0")/../../dev" kafka "$@"
