#!/usr/bin/env bash
# Bring up a virtual, real-time paced sound card for the audio tests: the JACK dummy
# backend, which PortAudio (hence sounddevice) sees as the "JACK Audio Connection Kit"
# host API. Idempotent: installs only what is missing, starts jackd only if no JACK server
# answers. Must run BEFORE the Python process that imports sounddevice (PortAudio probes
# its host APIs once, at initialisation).
#
# Env: PTT_AUDIO_RUN_DIR (default /tmp/ptt-audio) holds jackd.pid and jackd.log.
set -euo pipefail

RUN_DIR="${PTT_AUDIO_RUN_DIR:-/tmp/ptt-audio}"
PID_FILE="$RUN_DIR/jackd.pid"
LOG_FILE="$RUN_DIR/jackd.log"
# jackd2 ships jackd and the example clients (jack_wait, jack_lsp, jack_connect).
PACKAGES=(libportaudio2 jackd2)

need_install() {
    local pkg
    for pkg in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
            || return 0
    done
    for bin in jackd jack_wait jack_lsp jack_connect; do
        command -v "$bin" >/dev/null || return 0
    done
    return 1
}

install_packages() {
    local sudo=()
    [[ $(id -u) -eq 0 ]] || sudo=(sudo)
    # jackd2's postinst asks whether to enable real-time scheduling; answer "no" up front
    # (we run --no-realtime) so the install never waits on a prompt.
    echo "jackd2 jackd/tweak_rt_limits boolean false" | "${sudo[@]}" debconf-set-selections
    # Lock::Timeout: wait for a concurrent apt/dpkg (another CI step) instead of failing.
    local apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive
               apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends
               "${PACKAGES[@]}")
    # A fresh image may have empty package lists: update only if the install fails without.
    if ! "${apt[@]}"; then
        "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=300 update
        "${apt[@]}"
    fi
}

jack_running() {
    # jack_wait -c: exit 0 and print "running" if a server answers (never starts one).
    JACK_NO_START_SERVER=1 jack_wait -c 2>/dev/null | grep -q "^running"
}

if need_install; then
    install_packages
fi

mkdir -p "$RUN_DIR"
if jack_running; then
    echo "audio-up: jackd already running"
else
    # setsid + nohup: jackd must outlive this script (and its CI step's shell).
    JACK_NO_AUDIO_RESERVATION=1 setsid nohup \
        jackd --no-realtime -d dummy -r 48000 -p 256 -C 2 -P 2 >"$LOG_FILE" 2>&1 </dev/null &
    echo $! >"$PID_FILE"
    # jack_wait -w prints "cannot connect" noise while it polls; keep only its verdict.
    if ! jack_wait -w -t 10 >/dev/null 2>&1; then
        echo "audio-up: jackd did not come up within 10 s; log follows" >&2
        cat "$LOG_FILE" >&2
        exit 1
    fi
    echo "audio-up: jackd running (pid $(cat "$PID_FILE"), log $LOG_FILE)"
fi
