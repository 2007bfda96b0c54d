#!/usr/bin/env bash
# Stop the jackd started by audio-up.sh. Run it only after every Python process that
# opened PortAudio has exited: PortAudio's JACK host API asserts at exit if the server
# vanished under it. Idempotent; a jackd we did not start (no pid file) is left alone.
set -euo pipefail

RUN_DIR="${PTT_AUDIO_RUN_DIR:-/tmp/ptt-audio}"
PID_FILE="$RUN_DIR/jackd.pid"

if [[ ! -f "$PID_FILE" ]]; then
    echo "audio-down: no $PID_FILE, nothing to stop"
    exit 0
fi
pid="$(cat "$PID_FILE")"
# Only signal the pid if it still is a jackd (pids get reused).
if [[ "$(cat "/proc/$pid/comm" 2>/dev/null || true)" == "jackd" ]]; then
    kill -TERM "$pid"
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "audio-down: jackd $pid ignored SIGTERM, killing" >&2
        kill -KILL "$pid"
    fi
    echo "audio-down: jackd $pid stopped"
else
    echo "audio-down: pid $pid is not jackd any more"
fi
rm -f "$PID_FILE"
