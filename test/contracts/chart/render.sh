#!/usr/bin/env bash
# Regenerates facts.json from the official Airbyte chart archive: renders it with real Helm and
# its default values, then keeps the facts (extract.ts). The chart itself is never committed.
#
#   test/contracts/chart/render.sh CHART_TGZ SOURCE_DESCRIPTION
#
# CHART_TGZ: airbyte-2.0.19.tgz as published in github:airbytehq/charts (read it out of a clone,
# e.g. `git -C charts show HEAD:airbyte-2.0.19.tgz > /tmp/chart.tgz`).
# SOURCE_DESCRIPTION: where it came from, recorded as provenance (repository, commit, path).
# HELM: the helm binary (default: helm on PATH); it must be v3.19.0, as recorded
# (`go install helm.sh/helm/v3/cmd/helm@v3.19.0` builds it).
set -euo pipefail

tgz=${1:?chart archive path}
source_desc=${2:?where the archive came from}
helm=${HELM:-helm}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
release=airbyte-prod
namespace=airbyte-prod

# A helm built by `go install` reports only major.minor; its module version is the full one.
helm_version=$(go version -m "$(command -v "$helm")" 2>/dev/null | awk '$1 == "mod" && $2 == "helm.sh/helm/v3" { print $3 }')
helm_version=${helm_version:-$("$helm" version --template '{{.Version}}')}
if [ "$helm_version" != "v3.19.0" ]; then
  echo "render.sh: needs helm v3.19.0, got $helm_version" >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar -xzf "$tgz" -C "$work"
chart_yaml="$work/airbyte/Chart.yaml"
field() { sed -n "s/^$1: *//p" "$chart_yaml" | tr -d '"'; }

# Defaults throughout: no --set, no -f. Only the release name and namespace are chosen.
cmd="helm template $release CHART_TGZ --namespace $namespace"
"$helm" template "$release" "$tgz" --namespace "$namespace" > "$work/rendered.yaml"

cat > "$work/provenance.json" <<EOF
{
  "chart": "$(field name)",
  "version": "$(field version)",
  "appVersion": "$(field appVersion)",
  "source": "$source_desc",
  "tgzSha256": "$(sha256sum "$tgz" | cut -d' ' -f1)",
  "helm": "$helm_version",
  "release": "$release",
  "namespace": "$namespace",
  "values": {},
  "command": "$cmd"
}
EOF

"$root/node_modules/.bin/tsx" "$here/extract.ts" \
  --rendered "$work/rendered.yaml" --provenance "$work/provenance.json" --out "$here/facts.json"
"$root/node_modules/.bin/prettier" --write "$here/facts.json" > /dev/null
echo "wrote $here/facts.json"
