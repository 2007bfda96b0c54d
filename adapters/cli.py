"""The ``ptt`` command line: ``serve``, ``token``, ``connect``, ``demo``, ``diagram``.

Flag names and the ``--json`` output are a contract: scripts and tests depend on them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path


def _diagram(args: argparse.Namespace) -> int:
    from .diagrams import write

    out = Path(args.out)
    for path in write(out, svg=not args.no_svg, readme=out.resolve().parent / "README.md"):
        print(path)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ptt", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    diagram = sub.add_parser("diagram", help="regenerate diagrams/ from the machine")
    diagram.add_argument("--out", default="diagrams", help="output folder (default: diagrams)")
    diagram.add_argument("--no-svg", action="store_true", help="skip the Graphviz SVG")
    diagram.set_defaults(run=_diagram)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.run(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
