"""The ``ptt`` command line: ``serve``, ``janus``, ``token``, ``connect``, ``demo``, ``diagram``.

Flag names and the ``--json`` output are a contract: scripts and tests depend on them.
Logs go to stderr; stdout carries only what the command promises (the server URL, the
token, JSON lines).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import structlog

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 2, 64


def _configure_logging(level: str) -> None:
    """The application (not the library) decides where logs go: stderr, never stdout."""
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="%H:%M:%S.%f"),
            structlog.dev.ConsoleRenderer(colors=False),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
    )


# --- ptt serve ------------------------------------------------------------------------------
def _serve(args: argparse.Namespace) -> int:
    from adapters.server import PttServer, media_server, serve_forever

    _configure_logging(args.log_level)
    options: dict[str, Any] = {
        "grace": args.grace,
        "max_talk_time": args.max_talk_time,
        "max_message_size": args.max_message_size,
        "max_rps": args.max_rps,
        "max_members": args.max_members,
        "stall_timeout": args.stall_timeout,
    }
    if args.no_media:
        server = PttServer(args.secret, args.host, args.port, **options)
    else:
        server = media_server(args.secret, args.host, args.port, **options)
    asyncio.run(serve_forever(server, ready=lambda url: print(url, flush=True)))
    return EXIT_OK


# --- ptt token ------------------------------------------------------------------------------
def _token(args: argparse.Namespace) -> int:
    from adapters.server import mint_token

    print(mint_token(args.secret, args.user, args.channel, args.ttl))
    return EXIT_OK


# --- ptt connect ----------------------------------------------------------------------------
def _connect(args: argparse.Namespace) -> int:
    from .connect import ANONYMOUS, ConnectOptions, run_client

    _configure_logging(args.log_level)
    token = args.token or os.environ.get("PTT_TOKEN")
    if args.token_file:
        token = Path(args.token_file).read_text(encoding="utf-8").strip()
    if not token and args.backend == "janus":
        token = ANONYMOUS  # a Janus without token_auth needs none
    if not token:
        print("ptt connect: give --token, --token-file or PTT_TOKEN", file=sys.stderr)
        return EXIT_USAGE
    options = ConnectOptions(
        url=args.url,
        token=token,
        channel=args.channel,
        json=args.json,
        source=args.source,
        sink=args.sink,
        talk=args.talk,
        playback=not args.no_playback,
        output_device=args.output_device,
        media=not args.signaling_only,
        mode=args.mode,
        backoff=args.backoff,
        max_attempts=args.max_attempts,
        ping_interval=args.ping_interval,
        ping_timeout=args.ping_timeout,
        liveness=args.liveness,
        stable_after=args.stable_after,
        network_watch=not args.no_network_watch,
        backend=args.backend,
    )
    return asyncio.run(run_client(options))


# --- ptt janus ------------------------------------------------------------------------------
def _janus(args: argparse.Namespace) -> int:
    from .janus_serve import JanusServeOptions, serve_janus

    _configure_logging(args.log_level)
    options = JanusServeOptions(
        port=args.port,
        rooms=tuple(args.room or (1234,)),
        token_auth=args.token_auth,
        session_timeout=args.session_timeout,
    )
    return asyncio.run(serve_janus(options))


# --- ptt demo / diagram -------------------------------------------------------------------
def _demo(args: argparse.Namespace) -> int:
    _configure_logging(args.log_level)
    if args.backend == "janus":
        from .demo_janus import run_janus_demo

        return asyncio.run(run_janus_demo(quick=args.quick, plain=args.plain))
    from .demo import run_demo

    return asyncio.run(run_demo(quick=args.quick, plain=args.plain))


def _diagram(args: argparse.Namespace) -> int:
    from .diagrams import BadMachine, MissingDiagramTool, load_machine, write

    out = Path(args.out)
    try:
        if args.machine:
            # A user's machine: its own folder, never our README's diagram.
            machine = load_machine(args.machine)
            written = write(out, svg=not args.no_svg, machine=machine)
        else:
            written = write(out, svg=not args.no_svg, readme=out.resolve().parent / "README.md")
    except (BadMachine, MissingDiagramTool) as exc:
        print(f"ptt diagram: {exc}", file=sys.stderr)
        return EXIT_ERROR
    for path in written:
        print(path)
    return EXIT_OK


# --- ptt bench -----------------------------------------------------------------------------
def _bench(args: argparse.Namespace) -> int:
    from adapters.bench import BenchOptions, run_bench
    from adapters.bench.runner import NAMES

    _configure_logging(args.log_level)
    unknown = set(args.only or ()) - set(NAMES)
    if unknown:
        names = ", ".join(NAMES)
        print(f"ptt bench: unknown --only {sorted(unknown)}; names: {names}", file=sys.stderr)
        return EXIT_USAGE
    options = BenchOptions(
        quick=args.quick,
        clients=args.clients,
        only=tuple(args.only) if args.only else NAMES,
        json_path=Path(args.json) if args.json else None,
    )
    run_bench(options)
    return EXIT_OK


def _add_bench(sub: Subparsers) -> None:
    bench = sub.add_parser("bench", help="fleet and engine figures on loopback (one table)")
    bench.add_argument("--quick", action="store_true", help="small and short (CI)")
    bench.add_argument("--json", help="also write the figures to this JSON file")
    bench.add_argument("--clients", type=int, help="herd size (default 1000; quick 50)")
    bench.add_argument("--only", nargs="+", help="herd recovery engine memory blackhole")
    bench.add_argument("--log-level", default="error")
    bench.set_defaults(run=_bench)


def _add_soak_and_fuzz(sub: Subparsers) -> None:
    from adapters.testing import fuzz, soak  # light: the runs import their world lazily

    soaking = sub.add_parser("soak", help="fault cycles against the reference server: leaks")
    soak.add_arguments(soaking)
    soaking.set_defaults(run=soak.main)
    fuzzing = sub.add_parser("fuzz", help="Hypothesis on both parsers (needs the test extras)")
    fuzz.add_arguments(fuzzing)
    fuzzing.set_defaults(run=fuzz.main)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ptt", description=__doc__.splitlines()[0])
    # Long-running is the default so a new command cannot forget to survive SIGPIPE.
    parser.set_defaults(one_shot=False)
    sub = parser.add_subparsers(dest="command", required=True)
    _add_serve(sub)
    _add_janus(sub)
    _add_token(sub)
    _add_connect(sub)
    _add_demo_and_diagram(sub)
    _add_bench(sub)
    _add_soak_and_fuzz(sub)
    return parser


Subparsers = Any  # argparse's _SubParsersAction is private


def _add_serve(sub: Subparsers) -> None:
    serve = sub.add_parser("serve", help="run the reference PTT server (prints its URL first)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8765)
    serve.add_argument("--secret", default=os.environ.get("PTT_SECRET"), required=False)
    serve.add_argument("--grace", type=float, default=30.0, help="session resume window (s)")
    serve.add_argument("--max-talk-time", type=float, default=60.0)
    serve.add_argument("--max-message-size", type=int, default=64 * 1024)
    serve.add_argument("--max-rps", type=float, default=50)
    serve.add_argument("--max-members", type=int, default=50)
    serve.add_argument(
        "--stall-timeout", type=float, default=1.5, help="revoke a silent speaker's floor (s)"
    )
    serve.add_argument("--no-media", action="store_true", help="signaling only (no SFU)")
    serve.add_argument("--log-level", default="info")
    serve.set_defaults(run=_serve)


def _add_janus(sub: Subparsers) -> None:
    janus = sub.add_parser(
        "janus", help="run a private Janus AudioBridge (prints its WebSocket URL first)"
    )
    janus.add_argument("--port", type=int, default=8188, help="WebSocket port (default 8188)")
    janus.add_argument(
        "--room",
        type=int,
        action="extend",
        nargs="+",
        metavar="ROOM",
        help="AudioBridge room numbers, the channels (default: 1234)",
    )
    janus.add_argument(
        "--token-auth", action="store_true", help="require tokens; prints one it added"
    )
    janus.add_argument("--session-timeout", type=int, default=60, help="idle session (s)")
    janus.add_argument("--log-level", default="info")
    janus.set_defaults(run=_janus)


def _add_token(sub: Subparsers) -> None:
    token = sub.add_parser("token", help="print a JWT for the reference server")
    token.add_argument("--secret", default=os.environ.get("PTT_SECRET"))
    token.add_argument("--user", required=True)
    token.add_argument("--channel", required=True)
    token.add_argument("--ttl", type=float, default=3600.0, help="lifetime in seconds")
    token.set_defaults(run=_token, one_shot=True)


def _add_connect(sub: Subparsers) -> None:
    connect = sub.add_parser("connect", help="a push-to-talk client (interactive or --json)")
    connect.add_argument("url", help="reference: ws://HOST:PORT/ptt; janus: ws://HOST:PORT")
    connect.add_argument(
        "--backend",
        choices=["reference", "janus"],
        default="reference",
        help="the kind of server (janus: the channel is a room number)",
    )
    connect.add_argument(
        "--token", help="JWT, or a Janus token (or PTT_TOKEN / --token-file; janus: optional)"
    )
    connect.add_argument("--token-file")
    connect.add_argument("--channel", required=True)
    connect.add_argument("--json", action="store_true", help="one JSON object per event")
    connect.add_argument("--source", default="device", help="device[:NAME|INDEX], tone:HZ, a.wav")
    connect.add_argument("--sink", help="write everything heard to this 48 kHz WAV")
    connect.add_argument("--talk", action="store_true", help="hold the floor from the start")
    connect.add_argument("--output-device", help="speaker name substring or index")
    connect.add_argument("--no-playback", action="store_true", help="do not open a speaker")
    connect.add_argument("--signaling-only", action="store_true", help="no transports, no audio")
    connect.add_argument("--mode", choices=["hold", "toggle"], default="toggle")
    connect.add_argument("--backoff", help="fixed delays, e.g. 0.2,0.5,1 (default: 1,2,4..30)")
    connect.add_argument("--max-attempts", type=int)
    connect.add_argument("--ping-interval", type=float, default=5.0)
    connect.add_argument("--ping-timeout", type=float, default=5.0)
    connect.add_argument("--liveness", type=float, default=3.0, help="media liveness (s)")
    connect.add_argument("--stable-after", type=float, default=10.0)
    connect.add_argument(
        "--no-network-watch",
        action="store_true",
        help="do not watch the OS network (by default a returning network skips the backoff)",
    )
    connect.add_argument("--log-level", default="warning")
    connect.set_defaults(run=_connect)


def _add_demo_and_diagram(sub: Subparsers) -> None:
    demo = sub.add_parser("demo", help="the scripted outage story on a loopback server")
    demo.add_argument("--quick", action="store_true", help="shorter pauses (tests)")
    demo.add_argument("--plain", action="store_true", help="no live view, only the table")
    demo.add_argument(
        "--backend",
        choices=["reference", "janus"],
        default="reference",
        help="the server the story runs on (janus: a private Janus, needs Debian's janus)",
    )
    demo.add_argument("--log-level", default="error")
    demo.set_defaults(run=_demo)

    diagram = sub.add_parser("diagram", help="regenerate diagrams/ from the machine")
    diagram.add_argument("--out", default="diagrams", help="output folder (default: diagrams)")
    diagram.add_argument(
        "--no-svg",
        action="store_true",
        help="skip the SVG (it needs pip install 'ptt-fsm[diagrams]' and Graphviz dot)",
    )
    diagram.add_argument(
        "--machine",
        metavar="MODULE:CLASS",
        help="draw this subclass of fsm.ConnectionMachine (default: ConnectionMachine)",
    )
    diagram.set_defaults(run=_diagram, one_shot=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command in ("serve", "token") and not args.secret:
        parser.error(f"{args.command}: give --secret or set PTT_SECRET")
    if args.one_shot:
        # A printer may die of SIGPIPE (`ptt token | head -c1` exits quietly). Everything
        # else keeps Python's SIG_IGN: a write to a dead client's socket must fail as one
        # EPIPE on that socket, not kill a server (or client) that talks to many peers.
        with contextlib.suppress(AttributeError):  # no SIGPIPE on Windows
            signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    try:
        code: int = args.run(args)
    except BrokenPipeError:
        # Whoever read stdout is gone (`ptt connect --json | head -1`): that is their way
        # of saying stop. Point stdout at /dev/null so the final flush at exit stays quiet.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    return code


if __name__ == "__main__":
    sys.exit(main())
