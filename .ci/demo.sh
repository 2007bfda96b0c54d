#!/usr/bin/env bash
# The main job: set up, then run the scripted outage demo on the built-in loopback server.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/setup.sh
exec .venv/bin/ptt demo "$@"
