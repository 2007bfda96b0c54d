"""The lifecycle chart: every state and every transition of a push-to-talk connection.

This file is the diagram in code: states, events, guards (by name) and the transition
actions (by name). What the guards and actions *do* lives in :mod:`fsm.machine`, which
subclasses this chart. Read it top to bottom the way the Mermaid diagram reads.

Theory of operation
-------------------
::

    idle --connect--> connecting --(session established)--> connected
                          |                                   |  link_lost / media_failed
                          | link_failed (retryable)           v
                          +------------------------------> reconnecting
                                                 | backing_off --retry_due--> redialing
                                                 | --link_opened--> restoring --> connected
    any --disconnect--> disconnected          fatal (401 twice, 403, gave up) --> error
    disconnected / error --connect--> connecting

* Port calls only *start* work; results come back as events (``link_opened``,
  ``step_succeeded``...), so the machine never waits and ``disconnect`` always takes
  effect at once.
* Failure fan-out, in this order everywhere: refresh the token once on an auth failure,
  ``error`` if fatal, ``disconnected`` if the server said a final goodbye, ``error`` if
  the server broke the protocol once more than the failure table retries
  (``protocol_exhausted``), ``error`` if the backoff policy gave up, otherwise back off
  and retry.
* ``X.to(None, on=...)`` is a targetless transition: it runs its action and changes no
  state (no exit, no entry).
"""

from __future__ import annotations

from typing import Any

from statemachine import Event, State, StateChart


class LifecycleChart(StateChart[Any]):
    """States and transitions only; see :class:`fsm.machine.ConnectionMachine`."""

    # Unknown or late events are dropped (a nested rejection would abort the macrostep);
    # user-facing calls check legality first and raise ``IllegalTransition``.
    allow_event_without_transition = True
    catch_errors_as_events = True

    idle = State(initial=True)

    class connecting(State.Compound):
        dialing = State(initial=True)
        authenticating = State()
        establishing = State()

    class connected(State.Compound):
        ready = State(initial=True)
        degraded = State()

    class reconnecting(State.Compound):
        backing_off = State(initial=True)
        redialing = State()
        reauthenticating = State()
        restoring = State()

    disconnected = State()
    error = State()

    # --- user intents ---------------------------------------------------------------------
    connect = Event(
        idle.to(connecting) | disconnected.to(connecting) | error.to(connecting),
    )
    disconnect = Event(
        idle.to(disconnected)
        | connecting.to(disconnected, on="say_goodbye")
        | connected.to(disconnected, on="say_goodbye")
        | reconnecting.to(disconnected, on="say_goodbye")
        | error.to(disconnected),
    )
    reconnect_now = Event(reconnecting.backing_off.to(reconnecting.redialing))

    # --- the operating system's network watcher ---------------------------------------------
    network_changed = Event(
        reconnecting.backing_off.to(
            reconnecting.redialing, cond="network_came_back", on="note_network_hint"
        )
        | reconnecting.backing_off.to(None, cond="network_back_too_soon", on="defer_hint")
        | connected.to(None, cond="path_may_have_moved", on="probe_link"),
    )
    talk_pressed = Event(
        connected.to(None, on="request_floor")
        | connecting.to(None, on="queue_press")
        | reconnecting.to(None, on="queue_press"),
    )
    talk_released = Event(
        connected.to(None, on="release_floor")
        | connecting.to(None, on="queue_release")
        | reconnecting.to(None, on="queue_release"),
    )
    send_message = Event(
        connected.to(None, cond="backend_has_messages", on="transmit_message")
        | connecting.to(None, cond="backend_has_messages", on="queue_message")
        | reconnecting.to(None, cond="backend_has_messages", on="queue_message"),
    )

    # --- the signaling link ---------------------------------------------------------------
    link_opened = Event(
        connecting.dialing.to(connecting.establishing)
        | reconnecting.redialing.to(reconnecting.restoring),
    )
    link_failed = Event(
        connecting.dialing.to(connecting.authenticating, cond="can_refresh_token")
        | connecting.dialing.to(error, cond="is_fatal")
        | connecting.dialing.to(disconnected, cond="is_final")
        | connecting.dialing.to(error, cond="protocol_exhausted", on="note_protocol_exhausted")
        | connecting.dialing.to(reconnecting)
        | reconnecting.redialing.to(reconnecting.reauthenticating, cond="can_refresh_token")
        | reconnecting.redialing.to(error, cond="is_fatal")
        | reconnecting.redialing.to(disconnected, cond="is_final")
        | reconnecting.redialing.to(error, cond="protocol_exhausted", on="note_protocol_exhausted")
        | reconnecting.redialing.to(error, cond="gave_up", on="note_gave_up")
        | reconnecting.redialing.to(reconnecting.backing_off),
    )
    link_lost = Event(
        connecting.establishing.to(connecting.authenticating, cond="can_refresh_token")
        | connecting.establishing.to(error, cond="is_fatal")
        | connecting.establishing.to(disconnected, cond="is_final")
        | connecting.establishing.to(error, cond="protocol_exhausted", on="note_protocol_exhausted")
        | connecting.establishing.to(reconnecting)
        | connected.to(reconnecting.reauthenticating, cond="can_refresh_token", on="note_outage")
        | connected.to(error, cond="is_fatal")
        | connected.to(disconnected, cond="is_final")
        | connected.to(error, cond="protocol_exhausted", on="note_protocol_exhausted")
        | connected.to(error, cond="gave_up", on="note_gave_up")
        | connected.to(reconnecting, on="note_outage")
        | reconnecting.restoring.to(reconnecting.reauthenticating, cond="can_refresh_token")
        | reconnecting.restoring.to(error, cond="is_fatal")
        | reconnecting.restoring.to(disconnected, cond="is_final")
        | reconnecting.restoring.to(error, cond="protocol_exhausted", on="note_protocol_exhausted")
        | reconnecting.restoring.to(error, cond="gave_up", on="note_gave_up")
        | reconnecting.restoring.to(reconnecting.backing_off),
    )
    token_refreshed = Event(
        connecting.authenticating.to(connecting.dialing, on="use_token")
        | reconnecting.reauthenticating.to(reconnecting.redialing, on="use_token"),
    )
    token_refresh_failed = Event(
        connecting.authenticating.to(error) | reconnecting.reauthenticating.to(error),
    )

    # --- the session steps ----------------------------------------------------------------
    step_succeeded = Event(
        connecting.establishing.to(None, cond="has_next_step", on="next_step")
        | connecting.establishing.to(connected.degraded, cond="was_degraded", on="finish_plan")
        | connecting.establishing.to(connected.ready, on="finish_plan")
        | reconnecting.restoring.to(None, cond="has_next_step", on="next_step")
        | reconnecting.restoring.to(connected.degraded, cond="was_degraded", on="finish_plan")
        | reconnecting.restoring.to(connected.ready, on="finish_plan"),
    )
    step_failed = Event(
        connecting.establishing.to(None, cond="may_retry_step", on="retry_step")
        | connecting.establishing.to(None, cond="is_degradable", on="degrade_and_next")
        | connecting.establishing.to(error, cond="step_exhausted", on="note_step_exhausted")
        | connecting.establishing.to(error, cond="is_fatal")
        | connecting.establishing.to(disconnected, cond="is_final")
        | connecting.establishing.to(error, cond="protocol_exhausted", on="note_protocol_exhausted")
        | connecting.establishing.to(reconnecting)
        | reconnecting.restoring.to(None, cond="may_retry_step", on="retry_step")
        | reconnecting.restoring.to(None, cond="is_degradable", on="degrade_and_next")
        | reconnecting.restoring.to(error, cond="step_exhausted", on="note_step_exhausted")
        | reconnecting.restoring.to(error, cond="is_fatal")
        | reconnecting.restoring.to(disconnected, cond="is_final")
        | reconnecting.restoring.to(error, cond="protocol_exhausted", on="note_protocol_exhausted")
        | reconnecting.restoring.to(error, cond="gave_up", on="note_gave_up")
        | reconnecting.restoring.to(reconnecting.backing_off),
    )

    # --- timers ---------------------------------------------------------------------------
    retry_due = Event(reconnecting.backing_off.to(reconnecting.redialing))
    session_stable = Event(connected.to(None, on="reset_attempts"))
    deadline_passed = Event(
        connecting.authenticating.to(error)
        | connecting.to(reconnecting)
        | reconnecting.redialing.to(error, cond="gave_up", on="note_gave_up")
        | reconnecting.redialing.to(reconnecting.backing_off)
        | reconnecting.reauthenticating.to(error),
    )

    # --- media ----------------------------------------------------------------------------
    media_failed = Event(
        connected.to(error, cond="gave_up", on="note_gave_up")
        | connected.to(reconnecting, on="note_outage")
        | connecting.establishing.to(reconnecting)
        | reconnecting.restoring.to(error, cond="gave_up", on="note_gave_up")
        | reconnecting.restoring.to(reconnecting.backing_off)
        | reconnecting.to(None, on="note_media_dead"),
    )

    # --- floor and channel ----------------------------------------------------------------
    floor_granted = Event(connected.to(None, on="take_floor"))
    floor_denied = Event(connected.to(None, on="lose_floor_request"))
    floor_lost = Event(
        connected.to(reconnecting, cond="uplink_stalled", on="note_stalled_uplink")
        | connected.to(None, on="lose_floor"),
    )
    # The backend has no floor control: our own talk-time limit ends the transmission.
    talk_time_up = Event(connected.to(None, cond="floor_is_local", on="end_talk_time"))
    member_joined = Event(
        connected.to(None, on="add_member")
        | connecting.establishing.to(None, on="add_member")
        | reconnecting.restoring.to(None, on="add_member"),
    )
    member_left = Event(
        connected.to(None, on="remove_member")
        | connecting.establishing.to(None, on="remove_member")
        | reconnecting.restoring.to(None, on="remove_member"),
    )
    speaker_changed = Event(
        connected.to(None, on="change_speaker")
        | connecting.establishing.to(None, on="change_speaker")
        | reconnecting.restoring.to(None, on="change_speaker"),
    )
    sources_changed = Event(
        connected.to(None, on="change_sources")
        | connecting.establishing.to(None, on="change_sources")
        | reconnecting.restoring.to(None, on="change_sources"),
    )
    outbox_due = Event(connected.to(None, on="flush_more"))
    message_unconfirmed = Event(
        connected.to(None, on="resend_message")
        | connecting.to(None, on="requeue_message")
        | reconnecting.to(None, on="requeue_message"),
    )
    message_received = Event(connected.to(None, on="note_message"))

    # --- bugs in callbacks become a visible error, never a silent drop --------------------
    error_execution = Event(
        idle.to(error)
        | connecting.to(error)
        | connected.to(error)
        | reconnecting.to(error)
        | disconnected.to(error),
        id="error.execution",
    )
