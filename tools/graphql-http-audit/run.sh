#!/usr/bin/env bash
# Audits the router's /graphql against the GraphQL-over-HTTP spec with graphql-http's
# server audits.
#
#   bash tools/graphql-http-audit/run.sh target/debug/folio
#
# Starts `folio serve` from the given binary in a temporary working directory (fresh
# data dir, free ports on 127.0.0.1: tools/serve-for-check.sh), waits for /health, runs
# audit.mjs against http://127.0.0.1:PORT/graphql and always stops the server. Fails when
# a MUST audit fails; SHOULD and MAY failures are printed only. Needs
# `npm --prefix tools/graphql-http-audit ci`.
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 <path to the folio binary>" >&2
  exit 2
fi
root="$(cd "$(dirname "$0")/../.." && pwd)"
bin="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
[ -x "$bin" ] || { echo "graphql-http-audit: $bin is not an executable" >&2; exit 2; }
[ -d "$root/tools/graphql-http-audit/node_modules/graphql-http" ] ||
  { echo "graphql-http-audit: run npm --prefix tools/graphql-http-audit ci" >&2; exit 2; }

# shellcheck source=../serve-for-check.sh
source "$root/tools/serve-for-check.sh"
serve_for_check graphql-http-audit "$bin"

if ! node "$root/tools/graphql-http-audit/audit.mjs" "${serve_base}graphql"; then
  serve_log
  exit 1
fi
