# Versions of the engine toolchain (sourced by build.sh and read by test/engine/toolchain.ts).
PULUMI_VERSION=3.248.0
# pkg/v3's go.mod at v3.248.0: replace github.com/atotto/clipboard => github.com/tgummerer/clipboard
CLIPBOARD_FORK=v0.0.0-20241001131231-d02d263e614e
# Provider sources: the npm SDKs are @pulumi/kubernetes 4.34.2, @pulumi/random 4.21.2 and
# @pulumi/postgresql 3.18.1; the proxy serves none of their provider modules at a tagged version and the
# upstream repositories' newest tags are these (nearest below the SDK versions).
K8S_PROVIDER_SRC=4.32.0
RANDOM_PROVIDER_SRC=4.21.1
POSTGRESQL_PROVIDER_SRC=3.18.0
# The API server and its store.
KUBERNETES_VERSION=1.35.4
ETCD_VERSION=3.6.8
# Upstream pulumi-kubernetes commit "Adapt codegen to pulumi/pulumi v3.248.0 schema API" (branch
# renovate/pulumi), applied to K8S_PROVIDER_SRC: see build.sh.
K8S_PROVIDER_UPSTREAM_FIXES=4b602549d79178510861103f111bf15aa79dde87
# Modules the proxy serves at no version the bridge-based providers need: module|upstream git|subdir.
UNSERVED_SOURCES="github.com/pulumi/pulumi-yaml|/work/.mirror/pulumi+pulumi-yaml/repo|
github.com/pulumi/pulumi-dotnet/pulumi-language-dotnet/v3|/work/.mirror/pulumi+pulumi-dotnet/repo|pulumi-language-dotnet"
