# Sourced by the tools/*/run.sh checks: starts `folio serve` for a check and always stops it.
#
#   source "$root/tools/serve-for-check.sh"
#   serve_for_check NAME BINARY [VAR=VALUE ...]
#
# Starts `BINARY serve` in a temporary working directory (no folio.toml, no FOLIO_
# variable from outside), with FOLIO_DATA_DIR in a fresh temporary directory, the router
# and the users subgraph on free ports on 127.0.0.1, FOLIO_LOG=warn, plus the given
# VAR=VALUE settings; waits up to 30 s for /health. Then `serve_base` is the router's base
# URL (http://127.0.0.1:PORT/). An EXIT trap stops the server and removes the temporary
# directory. `serve_log` prints the end of the server's log to stderr. NAME prefixes the
# messages. Needs node (to find free ports) and curl.

serve_name=""
serve_tmp=""
serve_pid=""
serve_base=""

serve_cleanup() {
  if [ -n "$serve_pid" ] && kill -0 "$serve_pid" 2>/dev/null; then
    kill "$serve_pid" 2>/dev/null || true
    wait "$serve_pid" 2>/dev/null || true
  fi
  if [ -n "$serve_tmp" ]; then rm -rf "$serve_tmp"; fi
}

serve_log() {
  echo "---- folio serve log" >&2
  tail -n 50 "$serve_tmp/server.log" >&2 || true
}

serve_for_check() {
  serve_name="$1"
  local bin
  bin="$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"
  shift 2
  serve_tmp="$(mktemp -d "${TMPDIR:-/tmp}/folio-$serve_name.XXXXXX")"
  trap serve_cleanup EXIT
  trap 'exit 130' INT TERM

  # Two free ports: bound on port 0 at the same time, then released.
  local router_port users_port
  read -r router_port users_port < <(node -e '
    const net = require("node:net");
    const a = net.createServer().listen(0, "127.0.0.1", () => {
      const b = net.createServer().listen(0, "127.0.0.1", () => {
        console.log(a.address().port, b.address().port);
        a.close(); b.close();
      });
    });')
  serve_base="http://127.0.0.1:$router_port/"

  mkdir -p "$serve_tmp/work" "$serve_tmp/data"
  (
    cd "$serve_tmp/work"
    # Only this run's settings: no folio.toml here, no FOLIO_ variable from outside.
    for v in $(compgen -e | grep '^FOLIO_' || true); do unset "$v"; done
    export FOLIO_DATA_DIR="$serve_tmp/data" \
      FOLIO_ROUTER_ADDR="127.0.0.1:$router_port" \
      FOLIO_USERS_ADDR="127.0.0.1:$users_port" \
      FOLIO_LOG=warn
    if [ $# -gt 0 ]; then export "$@"; fi
    exec "$bin" serve
  ) >"$serve_tmp/server.log" 2>&1 &
  serve_pid=$!

  local _
  for _ in $(seq 1 300); do
    if ! kill -0 "$serve_pid" 2>/dev/null; then
      echo "$serve_name: folio serve exited before it was up" >&2
      serve_log
      exit 1
    fi
    if curl -fsS -o /dev/null --max-time 1 "${serve_base}health" 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  echo "$serve_name: ${serve_base}health did not answer within 30 s" >&2
  serve_log
  exit 1
}
