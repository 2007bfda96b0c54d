#!/usr/bin/env bash
# Set up everything ptt-fsm needs on a fresh Debian 12 machine (root, Python 3.11, package
# registries only): system packages, then a virtualenv in .venv with the project and its
# test tools. Idempotent; safe to run before every command.
set -euo pipefail
cd "$(dirname "$0")/.."

# graphviz: the SVG diagram; libportaudio2 + jackd2: real (virtual) audio devices;
# iproute2 + iptables: network namespaces and packet loss for the media fault tests;
# janus: the Janus AudioBridge backend's tests (tests/janus, a private LocalJanus).
PACKAGES=(graphviz libportaudio2 jackd2 iproute2 iptables janus)
missing=()
for pkg in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
    sudo=()
    [[ $(id -u) -eq 0 ]] || sudo=(sudo)
    echo "jackd2 jackd/tweak_rt_limits boolean false" | "${sudo[@]}" debconf-set-selections
    apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300
         install -y --no-install-recommends "${missing[@]}")
    if ! "${apt[@]}"; then
        "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=300 update
        "${apt[@]}"
    fi
fi

PYTHON="${PYTHON:-python3}"
if [[ ! -x .venv/bin/python ]]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
