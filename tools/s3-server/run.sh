#!/usr/bin/env bash
# Runs a command with a local S3-protocol server (moto's server mode, from PyPI, pinned in
# requirements.txt) and a bucket for it, and the variables that point Folio's tests at it:
#   bash tools/s3-server/run.sh cargo test --test e2e e2e::media::
# The server keeps everything in memory and is stopped when the command ends.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${FOLIO_S3_VENV:-$here/.venv}"

if [ ! -x "$venv/bin/moto_server" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
fi

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
log="$(mktemp -t folio-s3-server.XXXXXX.log)"
"$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true' EXIT

endpoint="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
  if curl -fs -o /dev/null -X PUT "$endpoint/folio-test"; then break; fi
  if ! kill -0 "$server" 2>/dev/null; then
    echo "the S3 server did not start:" >&2
    cat "$log" >&2
    exit 1
  fi
  sleep 0.1
done
curl -fs -o /dev/null "$endpoint/folio-test" || { echo "no bucket at $endpoint" >&2; cat "$log" >&2; exit 1; }
echo "S3 server (moto) at $endpoint, bucket folio-test"

AWS_ACCESS_KEY_ID=folio-test AWS_SECRET_ACCESS_KEY=folio-test AWS_REGION=us-east-1 \
  AWS_ENDPOINT="$endpoint" AWS_ALLOW_HTTP=true \
  FOLIO_TEST_MEDIA_STORE_URL=s3://folio-test \
  "$@"
