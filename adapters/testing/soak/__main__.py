"""``python -m adapters.testing.soak``: the same as ``ptt soak``."""

from __future__ import annotations

import argparse
import sys

from . import add_arguments, main

parser = argparse.ArgumentParser(prog="python -m adapters.testing.soak")
add_arguments(parser)
sys.exit(main(parser.parse_args()))
