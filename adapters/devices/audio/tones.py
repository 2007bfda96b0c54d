"""Feedback beeps for :class:`fsm.ports.Tone`: short, distinct, and quiet.

Each tone is a few sine beeps; the pitch contour tells them apart without looking:
rising = good news (talk permitted, link restored), falling = bad news (floor lost, link
lost), a low double buzz = refused (floor denied). Beeps fade in and out over 5 ms so
they start and end without a click.
"""

from __future__ import annotations

import functools

import numpy as np

from fsm.ports import Tone

from .analysis import sine
from .frames import RATE, Samples, silence

LEVEL_DBFS = -18.0  # peak; below the speech level so a beep never masks a talker
FADE = int(0.005 * RATE)
GAP = 0.03

# (frequency Hz, duration s) per beep.
BEEPS: dict[Tone, tuple[tuple[float, float], ...]] = {
    Tone.TALK_PERMITTED: ((880.0, 0.06), (1320.0, 0.06)),
    Tone.FLOOR_DENIED: ((330.0, 0.12), (330.0, 0.12)),
    Tone.FLOOR_LOST: ((1320.0, 0.06), (880.0, 0.06)),
    Tone.LINK_LOST: ((880.0, 0.08), (660.0, 0.08), (440.0, 0.08)),
    Tone.LINK_RESTORED: ((440.0, 0.08), (660.0, 0.08), (880.0, 0.08)),
}


@functools.cache
def tone_samples(tone: Tone) -> Samples:
    """The tone's samples at 48 kHz mono (cached: play_tone must be cheap)."""
    parts: list[Samples] = []
    for i, (freq, seconds) in enumerate(BEEPS[tone]):
        if i:
            parts.append(silence(int(GAP * RATE)))
        parts.append(_beep(freq, int(seconds * RATE)))
    out = np.concatenate(parts)
    out.setflags(write=False)  # shared by every call: nobody may modify it
    return out


def _beep(freq: float, n: int) -> Samples:
    envelope = np.ones(n)
    ramp = np.linspace(0.0, 1.0, FADE)
    envelope[:FADE] = ramp
    envelope[-FADE:] = ramp[::-1]
    return (sine(freq, n, level_dbfs=LEVEL_DBFS) * envelope).astype(np.int16)
