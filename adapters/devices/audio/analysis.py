"""Signal checks for tests and diagnostics: "does B hear a 440 Hz tone at about -15 dBFS?"."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from .frames import RATE, Samples, to_float, to_int16


def rms_dbfs(samples: NDArray[np.generic]) -> float:
    """RMS level relative to full scale (a full-scale sine is -3.01 dBFS); ``-inf`` if silent.

    Integer samples are scaled by their type's full scale, floats are taken as [-1, 1].
    """
    x = to_float(np.asarray(samples))
    if x.size == 0:
        return -math.inf
    rms = float(np.sqrt(np.mean(np.square(x))))
    return 20.0 * math.log10(rms) if rms > 0.0 else -math.inf


def dominant_frequency(samples: NDArray[np.generic], rate: int = RATE) -> float:
    """The strongest frequency in Hz (Hann window, FFT, parabolic peak interpolation)."""
    x = to_float(np.asarray(samples).reshape(-1))
    if x.size < 4:
        raise ValueError("need at least 4 samples to find a frequency")
    x = x - x.mean()  # a DC offset must not win
    spectrum = np.abs(np.fft.rfft(x * np.hanning(x.size)))
    k = int(np.argmax(spectrum[1:])) + 1
    # Between-bin refinement: a 20 ms frame has 50 Hz bins, too coarse to tell 440 from 450.
    if 1 <= k < spectrum.size - 1:
        a, b, c = np.log(spectrum[k - 1 : k + 2] + 1e-12)
        denom = a - 2 * b + c
        k_exact = k + (0.5 * (a - c) / denom if denom != 0 else 0.0)
    else:
        k_exact = float(k)
    return float(k_exact * rate / x.size)


def sine(freq: float, n: int, *, level_dbfs: float = 0.0, start: int = 0) -> Samples:
    """``n`` samples of a sine whose peak is ``level_dbfs``, phase-continuous from ``start``."""
    t = (np.arange(n, dtype=np.float64) + start) / RATE
    return to_int16(10 ** (level_dbfs / 20.0) * np.sin(2 * np.pi * freq * t))
