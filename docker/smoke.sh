#!/usr/bin/env bash
# The CPU stack of docker-compose.yml, for real: builds the image, starts redis + recorder + one worker-cpu under a
# throw-away compose project, and a second "machine" (another compose project, on its own network) that runs only
# worker-cpu, pointed at the first one's published Redis port and the same artifact folder, as README "Running with
# Docker" says for an added GPU machine. Runs sweeps/smoke.yaml through the tools container, restarts Redis in the
# middle of it (AOF must keep the queue), checks in SQLite that both runs succeeded with every metric and that both
# machines trained, writes the report, and takes both projects down again (volumes included).
#
#   bash docker/smoke.sh                      # needs a Docker engine and docker compose (v2) or docker-compose (v1)
#   NODE_IMAGE=ablate-local/node:20 REDIS_IMAGE=ablate-local/redis:7.0 bash docker/smoke.sh   # without Docker Hub
#
# Redis is published on SMOKE_REDIS_PORT (default 16379) so that it does not collide with a Redis on 6379.
set -euo pipefail
cd "$(dirname "$0")/.."

if docker compose version >/dev/null 2>&1; then compose=(docker compose); elif command -v docker-compose >/dev/null; then compose=(docker-compose); else
  echo "smoke: neither 'docker compose' nor 'docker-compose' is installed" >&2; exit 1
fi
say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

project="ablate-smoke-$$"
artifacts=$(mktemp -d)
chmod 0777 "$artifacts" # containers write here as their own root (which userns-remap maps to another host user)
# REDIS_URL pinned: a development REDIS_URL in the caller's shell would otherwise reach into every container. One
# password per Redis user (docker/redis/users.acl): the tools are the default user, the others their own.
export COMPOSE_PROJECT_NAME=$project REDIS_URL=redis://redis:6379 REDIS_PASSWORD="smoke-$RANDOM$RANDOM" \
  REDIS_WORKER_PASSWORD="smoke-w-$RANDOM$RANDOM" REDIS_RECORDER_PASSWORD="smoke-r-$RANDOM$RANDOM" \
  WORKER_REDIS_URL=redis://worker@redis:6379 RECORDER_REDIS_URL=redis://recorder@redis:6379 QUEUE_PREFIX=ablate \
  REDIS_PORT=${SMOKE_REDIS_PORT:-16379} ARTIFACT_HOST_DIR=$artifacts
dc() { "${compose[@]}" "$@"; }
tools() { dc --profile tools run --rm -T tools node "$@"; }
cleanup() {
  local rc=$?
  set +e
  if [ $rc -ne 0 ]; then dc logs --no-color --tail 40 recorder worker-cpu >&2; fi
  # The containers write as root: empty the folder from inside one, so that a non-root caller can remove it.
  dc --profile tools run --rm -T tools sh -c 'rm -rf /artifacts/* /artifacts/.[!.]*' >/dev/null 2>&1
  dc --profile tools down -v --remove-orphans >/dev/null 2>&1
  COMPOSE_PROJECT_NAME=$project-b dc down -v --remove-orphans >/dev/null 2>&1
  rm -rf "$artifacts"
  exit $rc
}
trap cleanup EXIT

say "building ablate:cpu"
dc build recorder >/dev/null
say "starting redis, recorder and worker-cpu (project $project)"
dc up -d redis recorder worker-cpu
host_ip=$(hostname -I | awk '{print $1}')
say "a second machine: project $project-b runs only worker-cpu, pointed at redis://worker@$host_ip:$REDIS_PORT"
COMPOSE_PROJECT_NAME=$project-b WORKER_REDIS_URL=redis://worker@$host_ip:$REDIS_PORT dc up -d --no-deps worker-cpu

say "submitting sweeps/smoke.yaml (detached), restarting Redis while it runs"
tools apps/scheduler/dist/sweep-main.js sweeps/smoke.yaml --detach
sleep 5
dc restart redis >/dev/null
say "waiting for the sweep (attached, no local workers)"
timeout 600 "${compose[@]}" --profile tools run --rm -T tools node apps/scheduler/dist/sweep-main.js sweeps/smoke.yaml --workers 0

say "checking SQLite"
q() { tools apps/scheduler/dist/query-main.js "$1" --format csv | tail -n +2 | tr -d '\r'; }
runs=$(q "SELECT count(*) FROM runs WHERE status = 'succeeded'")
metric_rows=$(q "SELECT count(*) FROM metrics")
missing=$(q "SELECT count(*) FROM runs r WHERE coalesce((SELECT max(step) FROM metrics m WHERE m.run_id = r.id AND m.name = 'loss'), -1) <> 20")
hosts=$(q "SELECT count(DISTINCT worker_host) FROM runs")
echo "succeeded runs: $runs, metric rows: $metric_rows, runs whose last loss is not at step 20: $missing, worker hosts: $hosts"
[ "$runs" = 2 ] && [ "$metric_rows" -gt 0 ] && [ "$missing" = 0 ] || { echo "smoke: the sweep did not end as expected" >&2; exit 1; }
[ "$hosts" = 2 ] || { echo "smoke: expected the runs on both machines' workers, got $hosts host(s)" >&2; exit 1; }

say "report"
tools apps/report/dist/report-main.js smoke --out /artifacts/reports >/dev/null
[ -s "$artifacts/reports/smoke.html" ] || { echo "smoke: no report written" >&2; exit 1; }
echo "report: $(wc -c <"$artifacts/reports/smoke.html") bytes"
say "docker smoke passed"
