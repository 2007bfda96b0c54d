"""Network changes for the machine (``fsm.ports.NetworkWatch``): the moment the route to
the server comes back, goes away or moves, so a reconnect need not wait out its backoff.

:func:`default_network_watch` picks :class:`NetlinkNetworkWatch` on Linux (rtnetlink,
stdlib only, zero CPU while idle) and :class:`NullNetworkWatch` elsewhere.
"""

from .default import default_network_watch
from .null import NullNetworkWatch
from .watch import NetlinkNetworkWatch

__all__ = ["NetlinkNetworkWatch", "NullNetworkWatch", "default_network_watch"]
