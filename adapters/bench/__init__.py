"""``ptt bench``: the figures of issue 11 on loopback, in one table and one JSON file.

- :mod:`.herd`: N clients against the reference server through a fault proxy in another
  process (:mod:`.serverside`, :mod:`.herdclient`): a crash and a graceful restart, for the
  default policy, the fleet policy and websockets' own reconnect loop side by side.
- :mod:`.micro`: one client's figures: recovery after a reset, the engine's cost per
  transition next to a bare python-statemachine chart, memory per session, blackhole
  detection with our defaults next to websockets' defaults.
- :mod:`.runner`: runs them and prints the table (:mod:`.report`).
"""

from typing import Any

__all__ = ["BenchOptions", "run_bench"]


def __getattr__(name: str) -> Any:
    # Lazy: the child processes run ``python -m adapters.bench.<module>``, which must not
    # import the runner (and through it themselves) first.
    if name in __all__:
        from . import runner

        return getattr(runner, name)
    raise AttributeError(name)
