#!/usr/bin/env bash
# Installs the compilers and runtimes that code tasks (HumanEval-X) execute with.
#
# Idempotent: packages already present are skipped; safe to run on every CI job.
# Needs root (or sudo) and apt-get (Debian/Ubuntu).
#
# What a user needs depends on the languages they evaluate:
#   python  always available (the harness's own interpreter runs it) -> nothing to install
#   cpp     g++ libboost-dev libssl-dev           (optional: only for language=cpp; boost and OpenSSL
#                                                  headers are used by CPP/22 and CPP/162)
#   java    default-jdk-headless (javac + java)   (optional: only for language=java)
#   js      nodejs                                (optional: only for language=js)
#   go      golang-go + golang-github-stretchr-testify-dev
#                                                 (optional: only for language=go; HumanEval-X Go tests
#                                                  import testify, read offline from /usr/share/gocode)
#   rust    rustc cargo librust-rand-dev librust-regex-dev librust-md5-dev
#                                                 (optional: only for language=rust; Debian's compiler and
#                                                  the crates HumanEval-X Rust tests use, read offline from
#                                                  /usr/share/cargo/registry as a cargo directory source)
#
# Usage: scripts/install-toolchains.sh [cpp] [java] [js] [go] [rust]   (no argument: all of them)
set -euo pipefail

declare -A PKGS=(
  [cpp]="g++ libboost-dev libssl-dev"
  [java]="default-jdk-headless"
  [js]="nodejs"
  [go]="golang-go golang-github-stretchr-testify-dev"
  [rust]="rustc cargo librust-rand-dev librust-regex-dev librust-md5-dev"
)

langs=("$@")
if [ ${#langs[@]} -eq 0 ]; then
  langs=(cpp java js go rust)
fi

want=()
for lang in "${langs[@]}"; do
  if [ -z "${PKGS[$lang]+x}" ]; then
    echo "install-toolchains: unknown language '$lang' (known: ${!PKGS[*]})" >&2
    exit 2
  fi
  for pkg in ${PKGS[$lang]}; do
    if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
      echo "install-toolchains: $pkg already installed"
    else
      want+=("$pkg")
    fi
  done
done

if [ ${#want[@]} -eq 0 ]; then
  echo "install-toolchains: nothing to do"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
echo "install-toolchains: installing ${want[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${want[@]}"
