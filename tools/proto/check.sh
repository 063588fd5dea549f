#!/usr/bin/env bash
# The checks `npm test` runs on proto/: lint, no breaking change against the last published
# contract, and generated TypeScript in step with the schemas. Runs offline: the module has no
# BSR dependencies and buf bundles the well-known types.
set -euo pipefail

cd "$(dirname "$0")/../.."
# npm puts node_modules/.bin on PATH; direct runs need it too, for buf and protoc-gen-es.
export PATH="$PWD/node_modules/.bin:$PATH"

BASELINE=proto/baseline/qiwei.binpb
GENERATED=libs/contracts/src/gen

echo "proto: buf lint"
buf lint proto

echo "proto: buf breaking against $BASELINE"
if ! buf breaking proto --against "$BASELINE"; then
  cat >&2 <<MSG
proto: the schemas break the published contract ($BASELINE) for consumers of the wire or JSON
format. Add fields and messages instead of changing them, or publish a new major version
(a new package qiwei.<service>.v2 and topic .v2). Refresh the baseline with
\`npm run proto:baseline\` only when releasing the new contract.
MSG
  exit 1
fi

echo "proto: generated TypeScript is current"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
buf generate --template proto/buf.gen.yaml --output "$scratch"
if ! diff -r "$scratch/$GENERATED" "$GENERATED" >"$scratch.diff" 2>&1; then
  cat "$scratch.diff" >&2
  rm -f "$scratch.diff"
  echo "proto: $GENERATED is stale: run npm run proto:generate and commit the result." >&2
  exit 1
fi
rm -f "$scratch.diff"
echo "proto: ok"
