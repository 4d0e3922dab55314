#!/usr/bin/env bash
# The deployment shape, in CI: every service as a process of its own, as docker-compose.yml
# and deploy/kubernetes run them, then the e2e tests of `e2e::apart` through that router.
#
#   bash tools/apart/run.sh <folio binary> [postgres url] [nats url]
#
# Each `folio serve --only <service>` process has its own data directory and its own
# PostgreSQL schema (apart_<run>_<service>), all share one NATS JetStream stream (a
# prefix of this run's) and one identity secret, and each is told where the others are by
# URL, as a deployment is. The in-process platform of the other tests hides what only
# this shows: events crossing processes, URLs, secrets. Loopback only; every wait is
# bounded; on exit it stops what it started (by PID), drops the schemas and the stream.
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 <folio binary> [postgres url] [nats url]" >&2; exit 2; }
bin="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
pg="${2:-postgres://postgres@127.0.0.1:5432/test}"
nats="${3:-nats://127.0.0.1:4222}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
run="apart_$(date +%s)_$$"
work="$(mktemp -d "${TMPDIR:-/tmp}/folio-$run.XXXXXX")"
subgraphs=(users content interactions search shop media)
pids=()

cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if command -v psql >/dev/null 2>&1; then
    for s in "${subgraphs[@]}"; do
      PGOPTIONS='-c client_min_messages=warning' psql "$pg" -qAt \
        -c "DROP SCHEMA IF EXISTS ${run}_$s CASCADE" >/dev/null 2>&1 || true
    done
  fi
  # The run's JetStream stream: one request on the JetStream API, in NATS's text protocol.
  python3 - "$nats" "$(echo "$run" | tr '[:lower:]' '[:upper:]' | tr -c 'A-Z0-9\n' '_')" <<'PY' || true
import socket, sys, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
with socket.create_connection((u.hostname or "127.0.0.1", u.port or 4222), timeout=5) as s:
    s.recv(4096)
    s.sendall(b"CONNECT {\"verbose\":false}\r\nPUB $JS.API.STREAM.DELETE." + sys.argv[2].encode() + b" 0\r\n\r\nPING\r\n")
    s.recv(4096)
PY
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A free port per service: bound at once on port 0, then released.
read -r -a ports < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(7)]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks: s.close()')
declare -A port
i=0
for s in "${subgraphs[@]}" router; do port[$s]=${ports[$i]}; i=$((i + 1)); done

# What every process is told: where each subgraph is, the JWKS, the shared secret.
common=(
  "FOLIO_IDENTITY_SECRET=apart-identity-secret-$run-0123456789"
  "FOLIO_JWKS_URL=http://127.0.0.1:${port[users]}/.well-known/jwks.json"
  "FOLIO_LOG=warn"
  "FOLIO_LOG_FORMAT=json"
)
for s in "${subgraphs[@]}"; do
  up=$(echo "$s" | tr '[:lower:]' '[:upper:]')
  common+=("FOLIO_${up}_URL=http://127.0.0.1:${port[$s]}/graphql")
done

start() { # service, extra VAR=value...
  local s="$1" up
  shift
  up=$(echo "$s" | tr '[:lower:]' '[:upper:]')
  mkdir -p "$work/$s"
  # Only this run's settings: no FOLIO_ variable from outside, no folio.toml.
  (
    cd "$work/$s"
    for v in $(compgen -e | grep '^FOLIO_' || true); do unset "$v"; done
    exec env "${common[@]}" "FOLIO_DATA_DIR=$work/$s" "FOLIO_${up}_ADDR=127.0.0.1:${port[$s]}" "$@" \
      "$bin" serve --only "$s"
  ) >"$work/$s.log" 2>&1 &
  pids+=($!)
}

for s in "${subgraphs[@]}"; do
  up=$(echo "$s" | tr '[:lower:]' '[:upper:]')
  start "$s" "FOLIO_${up}_DATABASE_URL=$pg" "FOLIO_DATABASE_SCHEMA=${run}_$s" \
    "FOLIO_NATS_URL=$nats" "FOLIO_EVENTS_PREFIX=$run"
done
start router

logs() {
  for s in "${subgraphs[@]}" router; do
    echo "---- $s (last lines of $work/$s.log)"
    tail -n 20 "$work/$s.log" || true
  done
}

ready="http://127.0.0.1:${port[router]}/ready"
for _ in $(seq 1 240); do
  if curl -fsS -m 2 "$ready" >/dev/null 2>&1; then break; fi
  for pid in "${pids[@]}"; do
    kill -0 "$pid" 2>/dev/null || { echo "apart: a service exited" >&2; logs; exit 1; }
  done
  sleep 0.5
done
curl -fsS -m 2 "$ready" >/dev/null || { echo "apart: the router is not ready after 120 s" >&2; logs; exit 1; }
echo "apart: 7 processes up (router at http://127.0.0.1:${port[router]}/graphql); running e2e::apart"

cd "$root"
if ! FOLIO_TEST_ROUTER_URL="http://127.0.0.1:${port[router]}/graphql" \
  cargo test --locked --test e2e e2e::apart; then
  logs
  exit 1
fi
