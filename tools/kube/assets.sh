#!/usr/bin/env bash
# Builds the kube-apiserver and etcd that Cairn's tests run (through
# controller-runtime's envtest), from the Go module proxy at pinned versions,
# into a cache folder that CI and developers keep between runs:
#
#   tools/kube/assets.sh DIR   ->  DIR/kube-apiserver, DIR/etcd
#
# Nothing is downloaded but Go modules: kube-apiserver is built inside a
# scratch module that pins every Kubernetes staging module with `replace`
# (k8s.io/kubernetes's own go.mod points them at its source tree), and etcd
# in a scratch module of its own (it cannot be `go install`ed).
set -euo pipefail

KUBERNETES_VERSION=v1.37.2
STAGING_VERSION=v0.37.2
ETCD_VERSION=v3.7.3

out=${1:?usage: assets.sh DIR}
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export GOFLAGS=-mod=mod GOWORK=off

if [ ! -x "$out/kube-apiserver" ]; then
  echo "building kube-apiserver $KUBERNETES_VERSION (about 13 minutes the first time)"
  mkdir -p "$work/apiserver"
  cd "$work/apiserver"
  go mod init cairn.test/kube-apiserver >/dev/null 2>&1
  kube_mod=$(go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  for module in $(awk '$2 == "=>" && $3 ~ /^\.\/staging\// {print $1}' "$kube_mod"); do
    go mod edit -replace "$module=$module@$STAGING_VERSION"
  done
  go mod edit -require "k8s.io/kubernetes@$KUBERNETES_VERSION"
  cat > tools.go <<'GO'
//go:build tools

package tools

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
GO
  go mod tidy >/dev/null
  minor=${KUBERNETES_VERSION#v1.}; minor=${minor%%.*}
  version_pkg=k8s.io/component-base/version
  CGO_ENABLED=0 go build -trimpath \
    -ldflags="-s -X $version_pkg.gitVersion=$KUBERNETES_VERSION -X $version_pkg.gitMajor=1 -X $version_pkg.gitMinor=$minor" \
    -o "$out/kube-apiserver.tmp" k8s.io/kubernetes/cmd/kube-apiserver
  mv "$out/kube-apiserver.tmp" "$out/kube-apiserver"
fi

if [ ! -x "$out/etcd" ]; then
  echo "building etcd $ETCD_VERSION"
  mkdir -p "$work/etcd"
  cd "$work/etcd"
  go mod init cairn.test/etcd >/dev/null 2>&1
  go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >/dev/null
  CGO_ENABLED=0 go build -trimpath -ldflags=-s -o "$out/etcd.tmp" go.etcd.io/etcd/server/v3
  mv "$out/etcd.tmp" "$out/etcd"
fi

"$out/kube-apiserver" --version
# Not `| head -n 1`: under pipefail, etcd killed by SIGPIPE when head exits
# first would fail the build.
etcd_version=$("$out/etcd" --version)
echo "${etcd_version%%$'\n'*}"
