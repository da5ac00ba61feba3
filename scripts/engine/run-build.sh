#!/usr/bin/env bash
# `npm run engine:build`: runs build.sh from a copy, so editing the script while a long build runs
# cannot change what the running shell reads next.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
copy="$(mktemp -d)"
trap 'rm -rf "$copy"' EXIT
cp "$here/build.sh" "$here/versions.sh" "$copy/"
ENGINE_REPO="$(cd "$here/../.." && pwd)" bash "$copy/build.sh" "$@"
