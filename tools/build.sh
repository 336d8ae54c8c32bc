#!/usr/bin/env bash
# Builds the local control plane (etcd, kube-apiserver, kube-controller-manager) from Go
# modules into a cache folder outside the repository, and prints that folder.
# `tools/build.sh NAME...` builds only the binaries named (etcd, kube-apiserver,
# kube-controller-manager, kubectl): kubeflake downloads etcd and kube-apiserver from the envtest
# release archives when it can and builds only what they lack; kubectl is for the snapshot
# benchmark only. A binary already in the folder is reused as it is.
# `tools/build.sh --where` only prints the folder (the Actions cache saves and restores it).
# Progress goes to stderr: one "building NAME (i of n)" line a binary, then `go build -v`'s
# package lines, then "built NAME in N s"; src/cluster/local.ts turns these into progress.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
kube_version=$(awk '$1 == "require" && $2 == "k8s.io/kubernetes" { print $3 }' "$here/kube/go.mod")
etcd_version=$(awk '$1 == "require" && $2 == "go.etcd.io/etcd/server/v3" { print $3 }' "$here/etcd/go.mod")
cache_root=${KUBEFLAKE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubeflake}
out="$cache_root/k8s-$kube_version-etcd-$etcd_version"

if [[ "${1:-}" == --where ]]; then
  echo "$out"
  exit 0
fi

wanted=("$@")
[[ ${#wanted[@]} -gt 0 ]] || wanted=(etcd kube-apiserver kube-controller-manager)
missing=()
for name in "${wanted[@]}"; do
  case $name in
    etcd | kube-apiserver | kube-controller-manager | kubectl) [[ -x "$out/$name" ]] || missing+=("$name") ;;
    *) echo "tools/build.sh: unknown binary \"$name\": choose from etcd, kube-apiserver, kube-controller-manager, kubectl" >&2; exit 2 ;;
  esac
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "$out"
  exit 0
fi

mkdir -p "$out"
minor=${kube_version#v1.}; minor=${minor%%.*}
pkg=k8s.io/component-base/version
kube_ldflags="-s -w -X $pkg.gitVersion=$kube_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
kube_ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"

echo "kubeflake: building the local control plane once (${missing[*]}; etcd $etcd_version, Kubernetes $kube_version) from Go modules into $out; later runs reuse it" >&2

step=0
build() { # dir ldflags output package
  local started=$SECONDS
  step=$((step + 1))
  echo "building $(basename "$3") (${step} of ${#missing[@]})" >&2
  # -v names each package as it compiles: the only sign of life during a 10-minute link.
  (cd "$here/$1" && go build -v -trimpath -buildvcs=false -ldflags "$2" -o "$3.partial" "$4")
  mv "$3.partial" "$3"
  echo "built $(basename "$3") in $((SECONDS - started)) s" >&2
}

for name in "${missing[@]}"; do
  case $name in
    etcd) build etcd "-s -w" "$out/etcd" go.etcd.io/etcd/server/v3 ;;
    kubectl) build kubectl "$kube_ldflags" "$out/kubectl" k8s.io/kubernetes/cmd/kubectl ;;
    *) build kube "$kube_ldflags" "$out/$name" "k8s.io/kubernetes/cmd/$name" ;;
  esac
done
echo "$out"
