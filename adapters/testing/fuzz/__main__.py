"""``python -m adapters.testing.fuzz``: the same as ``ptt fuzz``."""

from __future__ import annotations

import argparse
import sys

from . import add_arguments, main

parser = argparse.ArgumentParser(prog="python -m adapters.testing.fuzz")
add_arguments(parser)
sys.exit(main(parser.parse_args()))
