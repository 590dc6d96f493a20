#!/usr/bin/env bash
# Rebuild api/graphiql/static/ from the npm registry: pinned GraphiQL, React and ReactDOM
# browser builds, gzip-compressed (-n: no name or time, so the bytes are reproducible),
# with each package's licence. Run from the repository root; needs npm.
set -euo pipefail
GRAPHIQL=3.8.3
REACT=18.2.0
out=api/graphiql/static
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "graphiql@$GRAPHIQL" "react@$REACT" "react-dom@$REACT" >/dev/null)
for package in "graphiql-$GRAPHIQL" "react-$REACT" "react-dom-$REACT"; do
  mkdir -p "$work/$package" && tar -xzf "$work/$package.tgz" -C "$work/$package"
done
mkdir -p "$out"
gzip -9nc "$work/graphiql-$GRAPHIQL/package/graphiql.min.js" >"$out/graphiql.min.js.gz"
gzip -9nc "$work/graphiql-$GRAPHIQL/package/graphiql.min.css" >"$out/graphiql.min.css.gz"
gzip -9nc "$work/react-$REACT/package/umd/react.production.min.js" >"$out/react.production.min.js.gz"
gzip -9nc "$work/react-dom-$REACT/package/umd/react-dom.production.min.js" >"$out/react-dom.production.min.js.gz"
cp "$work/graphiql-$GRAPHIQL/package/LICENSE" "$out/LICENSE.graphiql"
cp "$work/react-$REACT/package/LICENSE" "$out/LICENSE.react"
cp "$work/react-dom-$REACT/package/LICENSE" "$out/LICENSE.react-dom"
(cd "$out" && sha256sum ./*.gz)
