#!/usr/bin/env bash
# Checks GraphiQL end to end in headless Chromium, with the assets the router builds in.
#
#   bash tools/graphiql-check/run.sh target/debug/folio
#
# Starts `folio serve` from the given binary in a temporary working directory (fresh
# data dir, free ports on 127.0.0.1: tools/serve-for-check.sh), waits for /health, runs
# check.mjs against it (which fails if the page loads anything from outside the router)
# and always stops the server. Needs `npm --prefix tools/graphiql-check ci` and Debian's
# chromium (/usr/bin/chromium, or FOLIO_CI_CHROMIUM).
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 <path to the folio binary>" >&2
  exit 2
fi
root="$(cd "$(dirname "$0")/../.." && pwd)"
bin="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
[ -x "$bin" ] || { echo "graphiql-check: $bin is not an executable" >&2; exit 2; }
[ -d "$root/tools/graphiql-check/node_modules/playwright-core" ] ||
  { echo "graphiql-check: run npm --prefix tools/graphiql-check ci" >&2; exit 2; }

# shellcheck source=../serve-for-check.sh
source "$root/tools/serve-for-check.sh"
serve_for_check graphiql-check "$bin"

if ! node "$root/tools/graphiql-check/check.mjs" "$serve_base"; then
  serve_log
  exit 1
fi
