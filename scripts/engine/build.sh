#!/usr/bin/env bash
# Builds the real Pulumi engine toolchain from Go modules (and, where a module is not served by the
# proxy, from the upstream repository's tagged source), caches it outside the repository keyed by
# version, and installs the providers into a private PULUMI_HOME under the exact versions the npm
# SDKs declare. Idempotent: a finished piece is skipped (its binary plus a stamp file).
#
#   AIRBYTE_ENGINE_CACHE   cache root (default ~/.cache/airbyte-pulumi-engine)
#   ENGINE_ONLY            space-separated list of pieces to build (default: all)
#   PULUMI_REPO_GIT        bare git dir of github.com/pulumi/pulumi (for pulumi-language-nodejs)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="${ENGINE_REPO:-$(cd "$here/../.." && pwd)}"
# shellcheck source=versions.sh
source "$here/versions.sh"

cache="${AIRBYTE_ENGINE_CACHE:-$HOME/.cache/airbyte-pulumi-engine}"
bin="$cache/bin"
# Providers are kept apart from bin/: a pulumi-resource-* beside the CLI or on PATH is "ambient"
# and would be used whatever version the program asks for.
prov="$cache/providers"
src="$cache/src"
logs="$cache/logs"
mkdir -p "$bin" "$prov" "$src" "$logs"

export CGO_ENABLED=0
export GOFLAGS="-trimpath -buildvcs=false -mod=mod"
export GOTOOLCHAIN=local
ldflags_base="-s -w"
t0=$(date +%s)

say() { printf '[engine:build %4ds] %s\n' "$(($(date +%s) - t0))" "$*"; }
fail() { say "FAILED: $*"; exit 1; }

wanted() { [ -z "${ENGINE_ONLY:-}" ] || [[ " $ENGINE_ONLY " == *" $1 "* ]]; }

# done_piece NAME VERSION: true when bin/NAME exists and was stamped with VERSION.
dir_of() { case "$1" in pulumi-resource-*) echo "$prov" ;; *) echo "$bin" ;; esac; }
done_piece() { [ -x "$(dir_of "$1")/$1" ] && [ "$(cat "$(dir_of "$1")/$1.version" 2>/dev/null)" = "$2" ]; }
stamp() { echo "$2" >"$(dir_of "$1")/$1.version"; }

# run_logged LABEL CMD...: runs CMD with its output in logs/LABEL.log; on failure shows the tail.
run_logged() {
  local label="$1"
  shift
  if ! "$@" >"$logs/$label.log" 2>&1; then
    tail -n 30 "$logs/$label.log" >&2
    return 1
  fi
}

# ---------------------------------------------------------------------------------------------
# pulumi CLI: pkg/v3 has `replace sdk/v3 => ../sdk`, so a wrapper module requires both at the
# same version and repeats pkg's clipboard replace (dependencies' replaces are ignored).
build_pulumi() {
  local v="$PULUMI_VERSION" w="$src/pulumi-cli-$PULUMI_VERSION"
  done_piece pulumi "$v" && { say "pulumi $v: cached"; return; }
  say "pulumi $v: building github.com/pulumi/pulumi/pkg/v3@v$v cmd/pulumi (wrapper module)"
  rm -rf "$w" && mkdir -p "$w" && cd "$w"
  go mod init local/pulumi-cli >/dev/null 2>&1
  go mod edit -replace "github.com/atotto/clipboard=github.com/tgummerer/clipboard@$CLIPBOARD_FORK"
  run_logged pulumi-get go get -tool "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi@v$v" \
    "github.com/pulumi/pulumi/sdk/v3@v$v" ||
    fail "fetch github.com/pulumi/pulumi/pkg/v3@v$v (+ sdk/v3@v$v)"
  run_logged pulumi-build go build -pgo=off -o "$bin/pulumi" \
    -ldflags "$ldflags_base -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$v" \
    github.com/pulumi/pulumi/pkg/v3/cmd/pulumi ||
    fail "build github.com/pulumi/pulumi/pkg/v3@v$v cmd/pulumi"
  stamp pulumi "$v"
  say "pulumi $v: built"
}

# pulumi-language-nodejs: its module (sdk/nodejs/cmd/pulumi-language-nodejs/v3) is not served by the
# module proxy (403 "This module version is not available"), so its source comes from the
# upstream repository at tag v$PULUMI_VERSION; its local replaces are swapped for the published
# pkg/v3 and sdk/v3 of the same version. It lives beside `pulumi` (language hosts are found there).
build_language_nodejs() {
  local v="$PULUMI_VERSION" w="$src/pulumi-language-nodejs-$PULUMI_VERSION"
  done_piece pulumi-language-nodejs "$v" && { say "pulumi-language-nodejs $v: cached"; return; }
  local git="${PULUMI_REPO_GIT:-/work/.mirror/pulumi+pulumi/repo}"
  [ -d "$git" ] || fail "pulumi-language-nodejs $v: no clone of github.com/pulumi/pulumi at $git (set PULUMI_REPO_GIT)"
  say "pulumi-language-nodejs $v: building from github.com/pulumi/pulumi tag v$v, sdk/nodejs/cmd/pulumi-language-nodejs"
  rm -rf "$w" && mkdir -p "$w" && cd "$w"
  git -C "$git" archive "v$v" sdk/nodejs/cmd/pulumi-language-nodejs | tar -x --strip-components=4 ||
    fail "pulumi-language-nodejs $v: tag v$v not in $git"
  go mod edit -dropreplace github.com/pulumi/pulumi/pkg/v3 -dropreplace github.com/pulumi/pulumi/sdk/v3 \
    -require "github.com/pulumi/pulumi/pkg/v3@v$v" -require "github.com/pulumi/pulumi/sdk/v3@v$v"
  run_logged language-nodejs-tidy go mod tidy || fail "resolve github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3 (v$v) dependencies"
  run_logged language-nodejs-build go build -pgo=off -o "$bin/pulumi-language-nodejs" \
    -ldflags "$ldflags_base -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$v" . ||
    fail "build pulumi-language-nodejs v$v"
  stamp pulumi-language-nodejs "$v"
  say "pulumi-language-nodejs $v: built"
}

# src_from_git NAME GITDIR TAG DEST [PATHSPEC...]: exports a tagged tree of a fetched upstream
# repository. Blobs the snapshot lacks (its largest files) are left out and listed in DEST.missing.
src_from_git() {
  local name="$1" git="$2" tag="$3" dest="$4"
  shift 4
  [ -d "$git" ] || fail "$name: no clone of the upstream repository at $git"
  git -C "$git" rev-parse -q --verify "$tag^{commit}" >/dev/null || fail "$name: tag $tag not in $git"
  rm -rf "$dest" && mkdir -p "$dest"
  local excludes=() m t h path
  while read -r m t h path; do
    [ "$t" = blob ] && ! git -C "$git" cat-file -e "$h" 2>/dev/null && excludes+=(":(exclude)$path")
  done < <(git -C "$git" ls-tree -r "$tag" -- "$@")
  printf '%s\n' "${excludes[@]#:(exclude)}" | sed '/^$/d' >"$dest.missing"
  # A private index, so blobs absent from the snapshot can be dropped before checkout.
  local idx="$dest.index"
  rm -f "$idx"
  GIT_INDEX_FILE="$idx" git -C "$git" --work-tree="$dest" read-tree "$tag" || fail "$name: cannot read $tag from $git"
  [ ${#excludes[@]} -eq 0 ] || GIT_INDEX_FILE="$idx" git -C "$git" --work-tree="$dest" update-index --force-remove -- "${excludes[@]#:(exclude)}"
  GIT_INDEX_FILE="$idx" git -C "$git" --work-tree="$dest" checkout-index -f -- $(
    GIT_INDEX_FILE="$idx" git -C "$git" --work-tree="$dest" ls-files -- "$@"
  ) || fail "$name: cannot export $tag from $git"
  rm -f "$idx"
}

# resolve_served LABEL [PACKAGES...]: the module proxy here serves only some versions of some modules (403 "This
# module version is not available"). Each refused requirement M@V is raised to the lowest version of M
# above V that the proxy serves, logged in bumps.txt, until the module graph downloads.
resolve_served() {
  local label="$1" i out mv m v cand
  shift
  # Only what the wanted packages import (test-only modules of the graph are never fetched).
  local pkgs=("$@")
  [ ${#pkgs[@]} -gt 0 ] || pkgs=(all)
  for i in $(seq 1 25); do
    if out="$(go list -deps "${pkgs[@]}" 2>&1 >/dev/null)"; then return 0; fi
    mv="$(grep -oE '[^ :]+@v[^ :]+: reading https?://[^ ]+: 403' <<<"$out" | head -n 1 | cut -d: -f1)"
    if [ -z "$mv" ]; then
      echo "$out" | tail -n 20 >&2
      return 1
    fi
    m="${mv%@*}" v="${mv#*@}"
    cand="$(cd / && GOFLAGS= go list -m -versions "$m" 2>/dev/null | tr ' ' '\n' | tail -n +2 |
      { while read -r c; do [ "$(printf '%s\n%s\n' "$v" "$c" | sort -V | head -n 1)" = "$v" ] && [ "$c" != "$v" ] && echo "$c"; done; } |
      sort -V | head -n 1)"
    if [ -z "$cand" ]; then
      # Served at no version above V: an empty local stand-in module (a replace). Only the module
      # graph lists it (a dependency's tests use it); if a package that is built imported it,
      # the build would fail naming it.
      local up commit git sub
      up="$(printf '%s\n' $UNSERVED_SOURCES | awk -F'|' -v m="$m" '$1 == m' | head -n 1)"
      commit="${v##*-}"
      if [ -n "$up" ] && ! grep -q "^$m " bumps.txt 2>/dev/null; then
        # A pseudo-version names its commit: that commit of the upstream repository, as a local
        # replace.
        git="$(cut -d'|' -f2 <<<"$up")" sub="$(cut -d'|' -f3 <<<"$up")"
        local dest="$PWD/.unserved/${m//\//_}"
        src_from_git "$m" "$git" "$commit" "$dest" ${sub:+"$sub"}
        say "$label: $m@$v refused by the proxy; its source at commit $commit of $git replaces it"
        echo "$m $v -> source of commit $commit ($git)" >>bumps.txt
        go mod edit -replace "$m=$dest${sub:+/$sub}"
        continue
      fi
      if ! grep -q "^$m " bumps.txt 2>/dev/null; then
        local stub="$PWD/.unserved/${m//\//_}"
        mkdir -p "$stub" && printf 'module %s\n\ngo 1.21\n' "$m" >"$stub/go.mod"
        say "$label: $m@$v refused by the proxy, none higher served; an empty stand-in module replaces it"
        echo "$m $v -> (empty stand-in: no package of it is built)" >>bumps.txt
        go mod edit -replace "$m=$stub"
        continue
      fi
      say "$label: $m@$v refused by the proxy and no higher version is served"
      return 1
    fi
    say "$label: $m@$v refused by the proxy; using $cand"
    echo "$m $v -> $cand" >>bumps.txt
    go mod edit -require "$m@$cand"
  done
  return 1
}

# build_bridge_or_native NAME SRCVER NPMVER DIR MODULE: runs the provider's own generate.go (it writes
# the gitignored schema-embed.json) and builds cmd/pulumi-resource-NAME with the version ldflag.
build_provider_cmd() {
  local name="$1" srcver="$2" dir="$3" module="$4"
  cd "$dir/provider"
  resolve_served "pulumi-resource-$name $srcver" "./cmd/pulumi-resource-$name/generate.go" ||
    fail "pulumi-resource-$name $srcver: modules generate.go imports cannot be fetched"
  cd "$dir/provider/cmd/pulumi-resource-$name"
  run_logged "$name-generate" env VERSION="$srcver" go run ./generate.go ||
    fail "pulumi-resource-$name $srcver: generate.go (schema-embed.json)"
  cd "$dir/provider"
  resolve_served "pulumi-resource-$name $srcver" "./cmd/pulumi-resource-$name" ||
    fail "pulumi-resource-$name $srcver: module graph of $module cannot be fetched"
  run_logged "$name-build" go build -pgo=off -o "$prov/pulumi-resource-$name" \
    -ldflags "$ldflags_base -X $module/pkg/version.Version=$srcver" "./cmd/pulumi-resource-$name" ||
    fail "build $module@$srcver cmd/pulumi-resource-$name"
}

# pulumi-resource-kubernetes: github.com/pulumi/pulumi-kubernetes/provider/v4 has no tagged module
# versions on the proxy; the newest tag in the upstream snapshot is $K8S_PROVIDER_SRC. Its replace of
# sdk/v4 serves tests only and is dropped. The snapshot lacks the 10+ MB schema.json, which the
# provider only returns from GetSchema and reads for `pulumi import`; a minimal schema naming the
# package stands in (neither is used by `pulumi up/preview/destroy` of a Node program).
build_kubernetes() {
  local v="$K8S_PROVIDER_SRC" w="$src/pulumi-kubernetes-$K8S_PROVIDER_SRC"
  done_piece pulumi-resource-kubernetes "$v" && { say "pulumi-resource-kubernetes $v: cached"; return; }
  say "pulumi-resource-kubernetes $v: building from github.com/pulumi/pulumi-kubernetes tag v$v"
  src_from_git pulumi-resource-kubernetes "${K8S_REPO_GIT:-/work/.mirror/pulumi+pulumi-kubernetes/repo}" "v$v" "$w" provider
  cd "$w/provider" && go mod edit -dropreplace github.com/pulumi/pulumi-kubernetes/sdk/v4
  # The proxy serves pkg/v3 at 3.229.0 and 3.248.0 but not the 3.243.0 this tag asks for; 3.248.0
  # changed PackageSpec.Provider to a pointer. Upstream's own adaptation (one line in
  # provider/pkg/gen/schema.go) is applied from its commit.
  local c
  for c in $K8S_PROVIDER_UPSTREAM_FIXES; do
    git -C "${K8S_REPO_GIT:-/work/.mirror/pulumi+pulumi-kubernetes/repo}" diff "$c^" "$c" -- provider/pkg |
      (cd "$w" && patch -s -p1) || fail "pulumi-resource-kubernetes $v: upstream commit $c does not apply"
    say "pulumi-resource-kubernetes $v: applied upstream commit $c (provider/pkg)"
  done
  local cmd="$w/provider/cmd/pulumi-resource-kubernetes"
  if [ ! -f "$cmd/schema.json" ]; then
    say "pulumi-resource-kubernetes $v: schema.json absent from the snapshot; embedding a minimal schema"
    printf '{"name":"kubernetes","version":"%s","resources":{}}\n' "$v" >"$cmd/schema.json"
  fi
  build_provider_cmd kubernetes "$v" "$w" github.com/pulumi/pulumi-kubernetes/provider/v4
  stamp pulumi-resource-kubernetes "$v"
  say "pulumi-resource-kubernetes $v: built"
}

# pulumi-resource-random: `replace .../shim => ./shim` is a nested module, present in the tag.
build_random() {
  local v="$RANDOM_PROVIDER_SRC" w="$src/pulumi-random-$RANDOM_PROVIDER_SRC"
  done_piece pulumi-resource-random "$v" && { say "pulumi-resource-random $v: cached"; return; }
  say "pulumi-resource-random $v: building from github.com/pulumi/pulumi-random tag v$v"
  src_from_git pulumi-resource-random "${RANDOM_REPO_GIT:-/work/.mirror/pulumi+pulumi-random/repo}" "v$v" "$w" provider
  build_provider_cmd random "$v" "$w" github.com/pulumi/pulumi-random/provider/v4
  stamp pulumi-resource-random "$v"
  say "pulumi-resource-random $v: built"
}

# pulumi-resource-postgresql: `replace github.com/cyrilgdn/terraform-provider-postgresql =>
# ../upstream` is a git submodule; it is exported at the submodule's commit and given the patch the
# provider carries (patches/0001-fix-import-path.patch: module path only).
build_postgresql() {
  local v="$POSTGRESQL_PROVIDER_SRC" w="$src/pulumi-postgresql-$POSTGRESQL_PROVIDER_SRC"
  done_piece pulumi-resource-postgresql "$v" && { say "pulumi-resource-postgresql $v: cached"; return; }
  local git="${POSTGRESQL_REPO_GIT:-/work/.mirror/pulumi+pulumi-postgresql/repo}"
  local upgit="${TF_POSTGRESQL_REPO_GIT:-/work/.mirror/cyrilgdn+terraform-provider-postgresql/repo}"
  say "pulumi-resource-postgresql $v: building from github.com/pulumi/pulumi-postgresql tag v$v"
  src_from_git pulumi-resource-postgresql "$git" "v$v" "$w" provider patches
  local sub
  sub="$(git -C "$git" ls-tree "v$v" upstream | awk '{print $3}')"
  [ -n "$sub" ] || fail "pulumi-resource-postgresql $v: no upstream submodule in tag v$v"
  say "pulumi-resource-postgresql $v: upstream github.com/cyrilgdn/terraform-provider-postgresql at $sub"
  src_from_git terraform-provider-postgresql "$upgit" "$sub" "$w/upstream"
  (cd "$w/upstream" && for p in "$w"/patches/*.patch; do patch -s -p1 <"$p"; done) ||
    fail "pulumi-resource-postgresql $v: patches do not apply to upstream $sub"
  build_provider_cmd postgresql "$v" "$w" github.com/pulumi/pulumi-postgresql/provider/v3
  stamp pulumi-resource-postgresql "$v"
  say "pulumi-resource-postgresql $v: built"
}

# etcd: go.etcd.io/etcd/server/v3 is the etcd main package; its replaces of the sibling modules
# (api, client/pkg, client/v3, pkg) become requirements at the same published version.
build_etcd() {
  local v="$ETCD_VERSION" w="$src/etcd-$ETCD_VERSION"
  done_piece etcd "$v" && { say "etcd $v: cached"; return; }
  say "etcd $v: building go.etcd.io/etcd/server/v3@v$v (wrapper module)"
  rm -rf "$w" && mkdir -p "$w" && cd "$w"
  go mod init local/etcd >/dev/null 2>&1
  local m
  for m in api/v3 client/pkg/v3 client/v3 pkg/v3; do go mod edit -require "go.etcd.io/etcd/$m@v$v"; done
  run_logged etcd-get go get -tool "go.etcd.io/etcd/server/v3@v$v" || fail "fetch go.etcd.io/etcd/server/v3@v$v"
  resolve_served "etcd $v" go.etcd.io/etcd/server/v3 || fail "etcd $v: module graph cannot be fetched"
  run_logged etcd-build go build -pgo=off -o "$bin/etcd" -ldflags "$ldflags_base" go.etcd.io/etcd/server/v3 ||
    fail "build go.etcd.io/etcd/server/v3@v$v"
  stamp etcd "$v"
  say "etcd $v: built"
}

# kube-apiserver: k8s.io/kubernetes replaces ~30 k8s.io/* modules with ./staging; the wrapper replaces
# each with its published v0.x.y of the same release (the generated code is committed upstream).
build_kube_apiserver() {
  local v="$KUBERNETES_VERSION" w="$src/kubernetes-$KUBERNETES_VERSION"
  done_piece kube-apiserver "$v" && { say "kube-apiserver $v: cached"; return; }
  say "kube-apiserver $v: building k8s.io/kubernetes@v$v cmd/kube-apiserver (wrapper module)"
  rm -rf "$w" && mkdir -p "$w" && cd "$w"
  go mod init local/kubernetes >/dev/null 2>&1
  run_logged kubernetes-mod go mod download -json "k8s.io/kubernetes@v$v" || fail "fetch k8s.io/kubernetes@v$v"
  local gomod staging m
  gomod="$(go env GOMODCACHE)/cache/download/k8s.io/kubernetes/@v/v$v.mod"
  staging="v0.${v#1.}"
  for m in $(grep -E '^\s*k8s\.io/[^ ]+ => \./staging/' "$gomod" | awk '{print $1}'); do
    go mod edit -replace "$m=$m@$staging"
  done
  run_logged kubernetes-get go get -tool "k8s.io/kubernetes/cmd/kube-apiserver@v$v" ||
    fail "fetch k8s.io/kubernetes@v$v (staging modules at $staging)"
  resolve_served "kube-apiserver $v" k8s.io/kubernetes/cmd/kube-apiserver || fail "kube-apiserver $v: module graph cannot be fetched"
  run_logged kube-apiserver-build go build -pgo=off -o "$bin/kube-apiserver" \
    -ldflags "$ldflags_base -X k8s.io/component-base/version.gitVersion=v$v -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=${v#1.}" \
    k8s.io/kubernetes/cmd/kube-apiserver || fail "build k8s.io/kubernetes@v$v cmd/kube-apiserver"
  stamp kube-apiserver "$v"
  say "kube-apiserver $v: built"
}

# plugins: installs each provider into the private PULUMI_HOME under the version its npm package
# declares (`pulumi.version` in node_modules/@pulumi/NAME/package.json), so nothing is downloaded.
install_plugins() {
  export PULUMI_HOME="$cache/pulumi-home"
  export PULUMI_SKIP_UPDATE_CHECK=true PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
  local name npmver
  for name in kubernetes random postgresql; do
    npmver="$(node -p "require('$repo/node_modules/@pulumi/$name/package.json').pulumi.version")" ||
      fail "plugins: node_modules/@pulumi/$name missing (run npm ci)"
    if [ -x "$PULUMI_HOME/plugins/resource-$name-v$npmver/pulumi-resource-$name" ] &&
      cmp -s "$prov/pulumi-resource-$name" "$PULUMI_HOME/plugins/resource-$name-v$npmver/pulumi-resource-$name"; then
      say "plugin $name $npmver: installed"
      continue
    fi
    [ -x "$prov/pulumi-resource-$name" ] || fail "plugin $name: $prov/pulumi-resource-$name not built"
    run_logged "plugin-$name" "$bin/pulumi" plugin install resource "$name" "$npmver" \
      --file "$prov/pulumi-resource-$name" || fail "pulumi plugin install resource $name $npmver"
    say "plugin $name $npmver: installed (built from $(cat "$prov/pulumi-resource-$name.version"))"
  done
}

pieces="pulumi language-nodejs kubernetes random postgresql plugins etcd kube-apiserver"

for p in $pieces; do
  if wanted "$p"; then if [ "$p" = plugins ]; then install_plugins; else "build_${p//-/_}"; fi; fi
done
say "done in $(($(date +%s) - t0)) s; binaries in $bin"
