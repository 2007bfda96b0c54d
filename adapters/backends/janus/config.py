"""A private Janus configuration folder: what ``LocalJanus`` starts Janus with.

The folder starts as a copy of the system's ``/etc/janus`` (so every plugin and transport
finds the file it looks for), then the files that matter are rewritten whole rather than
patched: a whole file is reproducible, a regex edit of a distribution's comments is not.
The settings are the ones measured in STACK.md (Janus 1.1.2 section): loopback-only
transports and ICE, a narrow RTP port range, a reclaim window so a dropped client can
``claim`` its session back, and AudioBridge rooms whose talking events actually fire.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

SYSTEM_CONFIGS = Path("/etc/janus")
#: Everything but the AudioBridge: fewer threads, faster start, nothing we do not use.
DISABLED_PLUGINS = (
    "libjanus_voicemail.so",
    "libjanus_recordplay.so",
    "libjanus_sip.so",
    "libjanus_nosip.so",
    "libjanus_lua.so",
    "libjanus_duktape.so",
    "libjanus_streaming.so",
    "libjanus_echotest.so",
    "libjanus_videocall.so",
    "libjanus_videoroom.so",
    "libjanus_textroom.so",
)
DISABLED_TRANSPORTS = (
    "libjanus_mqtt.so",
    "libjanus_rabbitmq.so",
    "libjanus_nanomsg.so",
    "libjanus_pfunix.so",
)


@dataclass(frozen=True)
class Room:
    """A permanent AudioBridge room (the channel ``str(room_id)``)."""

    room_id: int
    description: str = "ptt"
    secret: str | None = None  # the moderator secret (kick, mute others); never logged

    def settings(self) -> dict[str, str | int | bool]:
        """The room's AudioBridge settings (config file and ``create`` request alike)."""
        settings: dict[str, str | int | bool] = {
            "description": self.description,
            "sampling_rate": 48000,
            # These three make talking/stopped-talking events arrive (STACK.md: about
            # 0.5 s after the unmute); aiortc sends the audio-level header extension.
            "audiolevel_event": True,
            "audio_active_packets": 25,
            "audio_level_average": 40,
            "record": False,
        }
        if self.secret:
            settings["secret"] = self.secret
        return settings

    def render(self) -> str:
        lines = [f"room-{self.room_id}: {{"]
        for key, value in self.settings().items():
            if isinstance(value, bool):
                lines.append(f"\t{key} = {str(value).lower()}")
            elif isinstance(value, int):
                lines.append(f"\t{key} = {value}")
            else:
                lines.append(f'\t{key} = "{_quote(value)}"')
        return "\n".join([*lines, "}"])


@dataclass(frozen=True)
class JanusConfig:
    """What differs from the system configuration (seconds, ports)."""

    ws_port: int
    http_port: int
    admin_port: int
    rtp_ports: tuple[int, int] = (20000, 20200)
    session_timeout: int = 60
    reclaim_session_timeout: int = 20
    token_auth: bool = False
    admin_secret: str = "ptt-admin"  # guards add_token on the loopback admin API
    rooms: Sequence[Room] = field(default_factory=lambda: (Room(1234),))
    debug_level: int = 3  # warnings and errors: Janus's own log goes to a file in the folder

    def write(self, folder: Path, source: Path = SYSTEM_CONFIGS) -> Path:
        """Fill ``folder`` (created if needed) and return the path of its ``janus.jcfg``."""
        folder.mkdir(parents=True, exist_ok=True)
        for item in source.glob("*.jcfg"):
            shutil.copyfile(item, folder / item.name)
        (folder / "janus.jcfg").write_text(self._core(folder))
        (folder / "janus.transport.websockets.jcfg").write_text(self._websockets())
        (folder / "janus.transport.http.jcfg").write_text(self._http())
        (folder / "janus.plugin.audiobridge.jcfg").write_text(self._audiobridge())
        return folder / "janus.jcfg"

    def _core(self, folder: Path) -> str:
        low, high = self.rtp_ports
        lib = "/usr/lib/x86_64-linux-gnu/janus"
        token = "\ttoken_auth = true\n" if self.token_auth else ""
        return (
            "general: {\n"
            f'\tconfigs_folder = "{folder}"\n'
            f'\tplugins_folder = "{lib}/plugins"\n'
            f'\ttransports_folder = "{lib}/transports"\n'
            f'\tevents_folder = "{lib}/events"\n'
            f'\tloggers_folder = "{lib}/loggers"\n'
            f"\tdebug_level = {self.debug_level}\n"
            f'\tlog_to_file = "{folder / "janus.log"}"\n'
            f'\tadmin_secret = "{_quote(self.admin_secret)}"\n'
            f"{token}"
            f"\tsession_timeout = {self.session_timeout}\n"
            f"\treclaim_session_timeout = {self.reclaim_session_timeout}\n"
            "}\n"
            "media: {\n"
            f'\trtp_port_range = "{low}-{high}"\n'
            "}\n"
            "nat: {\n"
            "\tnice_debug = false\n"
            '\tice_enforce_list = "lo"\n'
            "}\n"
            f'plugins: {{\n\tdisable = "{",".join(DISABLED_PLUGINS)}"\n}}\n'
            f'transports: {{\n\tdisable = "{",".join(DISABLED_TRANSPORTS)}"\n}}\n'
            'loggers: {\n\tdisable = "libjanus_jsonlog.so"\n}\n'
            "events: {\n\tbroadcast = false\n}\n"
        )

    def _websockets(self) -> str:
        return (
            "general: {\n"
            '\tjson = "plain"\n'
            "\tws = true\n"
            f"\tws_port = {self.ws_port}\n"
            '\tws_ip = "127.0.0.1"\n'
            "\twss = false\n"
            "}\n"
            "admin: {\n\tadmin_ws = false\n\tadmin_wss = false\n}\n"
        )

    def _http(self) -> str:
        return (
            "general: {\n"
            '\tjson = "plain"\n'
            '\tbase_path = "/janus"\n'
            "\thttp = true\n"
            f"\tport = {self.http_port}\n"
            '\tip = "127.0.0.1"\n'
            "\thttps = false\n"
            "}\n"
            "admin: {\n"
            '\tadmin_base_path = "/admin"\n'
            "\tadmin_http = true\n"
            f"\tadmin_port = {self.admin_port}\n"
            '\tadmin_ip = "127.0.0.1"\n'
            "\tadmin_https = false\n"
            "}\n"
        )

    def _audiobridge(self) -> str:
        return "general: {\n}\n" + "\n".join(room.render() for room in self.rooms) + "\n"


def _quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')
