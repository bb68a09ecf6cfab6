#!/usr/bin/env bash
# A local standalone Apache Flink 1.19 session cluster (one JobManager, one
# TaskManager) on 127.0.0.1, from Beam's Flink runner jars on Maven Central
# (pom.xml beside this file; fetched into deploy/flink/lib on first use):
#   deploy/flink/local-cluster.sh start|stop|status [--data-dir DIR] [--slots N]
#   deploy/flink/local-cluster.sh launcher   # prints the jar for --flink_job_server_jar
# Pipelines then run with --runner=FlinkRunner --flink_master=127.0.0.1:REST_PORT
# (printed by start); data and logs stay in .journeys/flink. See README.md here.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
"$root/dev" setup >/dev/null
exec "$root/.venv/bin/python" -m journeys.servers.flink "$@"
