"""``SoundDeviceAudio``: the :class:`fsm.ports.Audio` port plus the media API for aiortc."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine
from typing import Any, Literal, TypeVar

import av
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from fsm.errors import DeviceError, PttError, UsageError
from fsm.logs import get_logger
from fsm.ports import Reply, Result, Tone

from .capture import DeviceSource
from .frames import FrameConverter
from .mixer import Mixer, Voice
from .output import DeviceSink
from .sinks import MemoryTap, Sink, WavSink
from .sources import Source, ToneSource, WavSource
from .spec import DeviceSpec, SourceSpec, ToneSpec, WavSpec, parse_device, parse_source
from .threads import Workers
from .tones import tone_samples
from .track import MicrophoneTrack

log = get_logger("ptt.audio")

State = Literal["stopped", "starting", "running"]
T = TypeVar("T")


class SoundDeviceAudio:
    """Microphone, playback and feedback tones over PortAudio, files or synthetic audio.

    ``source``: a spec for :func:`~adapters.audio.spec.parse_source` (``"device"``,
    ``"device:USB"``, ``"tone:440"``, ``"clip.wav"``); a bad spec raises ``ConfigError``
    here. Heard audio goes to the output device if ``output`` (``output_device``: index,
    name substring or ``None`` for the default), to a WAV file at ``wav_path`` and to
    ``tap``. PortAudio is loaded only for a ``device`` source or ``output=True``.
    """

    def __init__(
        self,
        source: str | SourceSpec = "device",
        *,
        output: bool = True,
        output_device: int | str | None = None,
        wav_path: str | os.PathLike[str] | None = None,
        tap: MemoryTap | None = None,
    ) -> None:
        self._spec = parse_source(source) if isinstance(source, str) else source
        self._output = output
        self._output_device = parse_device(output_device)
        self._wav_path = wav_path
        self._tap = tap
        self._state: State = "stopped"
        self._loop: asyncio.AbstractEventLoop | None = None
        self._replies: list[Reply] = []
        self._source: Source | None = None
        self._sinks: list[Sink] = []
        self._track: MicrophoneTrack | None = None
        self._mixer: Mixer | None = None
        self._players: dict[MediaStreamTrack, tuple[asyncio.Task[None], Voice]] = {}
        self._tasks: set[asyncio.Task[None]] = set()  # every task we started, until it ends
        self._workers = Workers()  # threads opening devices, which stop() cannot cancel

    # --- fsm.ports.Audio ---------------------------------------------------------------
    def start(self, reply: Reply) -> None:
        """Open the source and the sinks in the background; ``reply`` gets the outcome."""
        loop = asyncio.get_running_loop()
        if self._state == "running":
            loop.call_soon(reply, Result())
            return
        self._replies.append(reply)
        if self._state == "starting":
            return  # the open in progress answers every caller
        self._loop = loop
        self._state = "starting"
        self._spawn(self._open(), "ptt-audio-start")

    def stop(self) -> None:
        """Close devices and the file, end the microphone track, cancel every task.

        Synchronous: closing a PortAudio stream takes a few ms. Tasks are cancelled here
        and end at the loop's next turn; ``await wait_closed()`` to be sure they did.
        """
        if self._state == "stopped":
            return
        self._state = "stopped"
        self._replies.clear()  # a late start report would be dropped by the machine anyway
        for task in list(self._tasks):
            task.cancel()
        self._players.clear()
        self._mixer = None
        if self._track is not None:
            self._track.stop()
            self._track = None
        self._close_resources()
        log.info("audio.stopped")

    def play_tone(self, tone: Tone) -> None:
        """Queue a feedback tone into the output; never blocks, never raises."""
        try:
            mixer, loop = self._mixer, self._loop
            if mixer is None or loop is None:
                log.info("audio.tone_dropped", tone=str(tone), reason="audio not started")
                return
            samples = tone_samples(Tone(tone))
            # Safe from any thread; on the loop thread it runs at the next turn.
            loop.call_soon_threadsafe(mixer.play_tone, samples)
        except Exception:
            log.exception("audio.tone_failed", tone=str(tone))

    # --- media API (for the aiortc transports adapter) -------------------------------------
    def microphone_track(self) -> MicrophoneTrack:
        """The capture track; exists once ``start`` reported success, ends at ``stop``."""
        if self._track is None:
            raise UsageError("microphone_track() needs a successful start() first")
        return self._track

    def play(self, track: MediaStreamTrack) -> None:
        """Start pulling a received audio track into the sinks (ignored if not started)."""
        mixer = self._mixer
        if mixer is None or self._state != "running":
            log.warning("audio.play_ignored", track=track.id, reason="audio not started")
            return
        if track.kind != "audio":
            log.warning("audio.play_ignored", track=track.id, reason=f"{track.kind} track")
            return
        if track in self._players:
            return
        voice = mixer.add_voice(track.id)
        task = self._spawn(self._pull(track, voice, mixer), f"ptt-audio-play-{track.id}")
        self._players[track] = (task, voice)

    def stop_playing(self, track: MediaStreamTrack) -> None:
        """Stop hearing ``track`` now (what is queued is dropped); unknown tracks are fine."""
        entry = self._players.pop(track, None)
        if entry is not None and self._mixer is not None:
            task, voice = entry
            task.cancel()
            self._mixer.remove_voice(voice)

    # --- lifecycle helpers ------------------------------------------------------------------
    async def wait_closed(self) -> None:
        """After ``stop()``: wait until every task and opening thread of ours has ended."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._workers.join()

    async def aclose(self) -> None:
        self.stop()
        await self.wait_closed()

    @property
    def running(self) -> bool:
        return self._state == "running"

    # --- internals -------------------------------------------------------------------------
    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        assert self._loop is not None
        task = self._loop.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _open(self) -> None:
        try:
            self._source = await self._open_source()
            await self._open_sinks()
        except PttError as exc:
            self._fail(exc)
            return
        except Exception as exc:  # not translated where it was raised: keep the traceback
            log.exception("audio.start_crashed")
            self._fail(DeviceError(f"audio start failed: {exc!r}"))
            return
        self._track = MicrophoneTrack(self._source)
        self._mixer = Mixer(self._sinks)
        self._spawn(self._mixer.run(), "ptt-audio-mixer")
        self._state = "running"
        log.info(
            "audio.started", source=repr(self._spec), sinks=[type(s).__name__ for s in self._sinks]
        )
        self._answer(Result())

    def _fail(self, error: PttError) -> None:
        log.warning("audio.start_failed", error=str(error), guidance=error.guidance)
        self._close_resources()
        self._state = "stopped"
        self._answer(Result(error=error))

    async def _open_source(self) -> Source:
        spec = self._spec
        if isinstance(spec, ToneSpec):
            return ToneSource(spec.frequency, spec.level_dbfs)
        if isinstance(spec, WavSpec):
            return await self._blocking(lambda: WavSource.load(spec.path), WavSource.close)
        assert isinstance(spec, DeviceSpec)
        loop = asyncio.get_running_loop()
        return await self._blocking(
            lambda: DeviceSource.open(loop, spec.device), DeviceSource.close
        )

    async def _open_sinks(self) -> None:
        if self._tap is not None:
            self._sinks.append(self._tap)
        if self._wav_path is not None:
            wav = await self._blocking(self._open_wav, WavSink.close)
            self._sinks.append(wav)
        if self._output:
            device = self._output_device
            speaker = await self._blocking(lambda: DeviceSink.open(device), DeviceSink.close)
            self._sinks.append(speaker)

    def _open_wav(self) -> WavSink:
        assert self._wav_path is not None
        try:
            return WavSink(self._wav_path)
        except OSError as exc:
            raise DeviceError(
                f"cannot write {self._wav_path}: {exc}",
                guidance="check that the recording path's folder exists and is writable",
            ) from exc

    async def _blocking(self, fn: Callable[[], T], close: Callable[[T], None]) -> T:
        return await self._workers.run(fn, close)

    async def _pull(self, track: MediaStreamTrack, voice: Voice, mixer: Mixer) -> None:
        converter = FrameConverter()
        try:
            while True:
                frame = await track.recv()
                if isinstance(frame, av.AudioFrame):  # a Packet would mean an encoded track
                    voice.push(converter.convert(frame))
                    mixer.notify()
        except MediaStreamError:
            log.info("audio.track_ended", track=track.id)
        except Exception:
            log.exception("audio.play_failed", track=track.id)
        finally:
            voice.finished = True  # the mixer plays out what is queued, then drops it
            mixer.notify()
            entry = self._players.get(track)
            if entry is not None and entry[1] is voice:
                del self._players[track]

    def _answer(self, result: Result[None]) -> None:
        replies, self._replies = self._replies, []
        for reply in replies:
            reply(result)

    def _close_resources(self) -> None:
        source, self._source = self._source, None
        sinks, self._sinks = self._sinks, []
        closers: list[Callable[[], None]] = [s.close for s in sinks]
        if source is not None:
            closers.insert(0, source.close)
        for close in closers:
            try:
                close()
            except Exception:
                log.exception("audio.close_failed")
