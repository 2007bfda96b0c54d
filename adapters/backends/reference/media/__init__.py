"""WebRTC media on aiortc: the client side of the reference SFU (``adapters.server.sfu``).

The port object is :class:`.sfu_media.SfuMedia` (also exported by the backend package).
This package imports nothing itself, so the server can share :mod:`.pc` without loading
the client.
"""
