"""The I/O edges of ptt-fsm: signaling (websockets), transports (aiortc), audio
(sounddevice), clock, logging, the reference server, the fault proxy and the ``ptt`` CLI."""
