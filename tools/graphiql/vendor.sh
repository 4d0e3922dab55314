#!/usr/bin/env bash
# Refreshes the GraphiQL files the router builds in (router/assets/graphiql/) from the npm
# packages package.json pins, and prints each file's Subresource Integrity, which
# router/src/graphiql.rs must carry (with the versions) for the page to load it.
#   bash tools/graphiql/vendor.sh          (from the project root; needs npm)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
here="$root/tools/graphiql"
out="$root/router/assets/graphiql"
npm --prefix "$here" ci --no-audit --no-fund --loglevel=error
nm="$here/node_modules"
mkdir -p "$out"
cp "$nm/react/umd/react.production.min.js" \
   "$nm/react-dom/umd/react-dom.production.min.js" \
   "$nm/graphiql/graphiql.min.js" \
   "$nm/graphiql/graphiql.min.css" "$out/"
{
  for p in graphiql react react-dom; do
    v=$(node -p "require('$nm/$p/package.json').version")
    echo "== $p $v (npm), MIT"
    cat "$nm/$p/LICENSE"
    echo
  done
} > "$out/LICENSES.txt"
for f in "$out"/*.js "$out"/*.css; do
  echo "$(basename "$f") sha384-$(openssl dgst -sha384 -binary "$f" | base64 -w0)"
done
