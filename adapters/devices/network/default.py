"""The best ``NetworkWatch`` this host can run."""

from __future__ import annotations

import sys

from fsm.logs import get_logger
from fsm.ports import NetworkWatch

from .null import NullNetworkWatch

log = get_logger("ptt.network")


def default_network_watch() -> NetworkWatch:
    """The netlink watcher on Linux if a netlink socket can be opened here (some sandboxes
    forbid it), else :class:`NullNetworkWatch`."""
    if sys.platform != "linux":
        log.debug("ptt.network.no_watcher", platform=sys.platform)
        return NullNetworkWatch()
    from . import rtnetlink
    from .watch import NetlinkNetworkWatch

    try:
        rtnetlink.open_monitor().close()
    except OSError as exc:
        log.debug("ptt.network.netlink_unavailable", error=exc.strerror or str(exc))
        return NullNetworkWatch()
    return NetlinkNetworkWatch()
