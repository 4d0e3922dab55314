#!/usr/bin/env bash
# Checks GraphiQL end to end in headless Chromium, with the assets served locally.
#
#   bash tools/graphiql-check/run.sh target/debug/folio
#
# Starts `folio serve` from the given binary in a temporary working directory (fresh
# data dir, free ports on 127.0.0.1, FOLIO_GRAPHIQL_ASSETS_DIR=tools/graphiql/node_modules),
# waits for /health, runs check.mjs against it and always stops the server. Needs
# `npm --prefix tools/graphiql ci`, `npm --prefix tools/graphiql-check ci` and Debian's
# chromium (/usr/bin/chromium, or FOLIO_CI_CHROMIUM).
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 <path to the folio binary>" >&2
  exit 2
fi
root="$(cd "$(dirname "$0")/../.." && pwd)"
bin="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
assets="$root/tools/graphiql/node_modules"
[ -x "$bin" ] || { echo "graphiql-check: $bin is not an executable" >&2; exit 2; }
[ -f "$assets/graphiql/graphiql.min.js" ] ||
  { echo "graphiql-check: no GraphiQL assets in $assets: run npm --prefix tools/graphiql ci" >&2; exit 2; }
[ -d "$root/tools/graphiql-check/node_modules/playwright-core" ] ||
  { echo "graphiql-check: run npm --prefix tools/graphiql-check ci" >&2; exit 2; }

tmp="$(mktemp -d "${TMPDIR:-/tmp}/folio-graphiql-check.XXXXXX")"
server=""
cleanup() {
  if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Two free ports: bound on port 0 at the same time, then released.
read -r router_port users_port < <(node -e '
  const net = require("node:net");
  const a = net.createServer().listen(0, "127.0.0.1", () => {
    const b = net.createServer().listen(0, "127.0.0.1", () => {
      console.log(a.address().port, b.address().port);
      a.close(); b.close();
    });
  });')
base="http://127.0.0.1:$router_port/"

mkdir -p "$tmp/work" "$tmp/data"
(
  cd "$tmp/work"
  # Only this run's settings: no folio.toml here, no FOLIO_ variable from outside.
  for v in $(compgen -e | grep '^FOLIO_' || true); do unset "$v"; done
  export FOLIO_DATA_DIR="$tmp/data" \
    FOLIO_ROUTER_ADDR="127.0.0.1:$router_port" \
    FOLIO_USERS_ADDR="127.0.0.1:$users_port" \
    FOLIO_GRAPHIQL_ASSETS_DIR="$assets" \
    FOLIO_LOG=warn
  exec "$bin" serve
) >"$tmp/server.log" 2>&1 &
server=$!

server_log() {
  echo "---- folio serve log" >&2
  tail -n 50 "$tmp/server.log" >&2 || true
}

up=""
for _ in $(seq 1 300); do
  if ! kill -0 "$server" 2>/dev/null; then
    echo "graphiql-check: folio serve exited before it was up" >&2
    server_log
    exit 1
  fi
  if curl -fsS -o /dev/null --max-time 1 "${base}health" 2>/dev/null; then
    up=1
    break
  fi
  sleep 0.1
done
if [ -z "$up" ]; then
  echo "graphiql-check: ${base}health did not answer within 30 s" >&2
  server_log
  exit 1
fi

if ! node "$root/tools/graphiql-check/check.mjs" "$base"; then
  server_log
  exit 1
fi
