#!/usr/bin/env bash
# The test command: set up, start the virtual sound card (JACK dummy backend), run the
# linters, the type checker, the diagram drift check and the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/setup.sh
bash .ci/audio-up.sh
# jackd must outlive every Python process that opened PortAudio: stop it last.
trap 'bash .ci/audio-down.sh || true' EXIT

.venv/bin/ruff check fsm adapters tests
.venv/bin/ruff format --check fsm adapters tests
.venv/bin/mypy --strict
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
