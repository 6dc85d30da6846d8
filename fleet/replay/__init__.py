"""Put failed work back: dead-lettered messages onto their queue, parked stream records into their function.

`dead_letters` moves, dumps and sends back SQS messages; `stream_failures` delivers again
the stream records that an on-failure queue describes.
"""

from __future__ import annotations

from fleet.replay.dead_letters import (
    BATCH,
    HOLD_SECONDS,
    Pacer,
    Where,
    dead_letter_queue,
    dump,
    dump_line,
    move,
    peek,
    read_dump,
    release,
    send_dump,
    send_then_delete,
    start_move_task,
)
from fleet.replay.stream_failures import (
    on_failure_function,
    on_failure_queues,
    parked,
    read_failed_records,
    replay_failures,
    replay_queue,
)

__all__ = [
    "BATCH",
    "HOLD_SECONDS",
    "Pacer",
    "Where",
    "dead_letter_queue",
    "dump",
    "dump_line",
    "move",
    "on_failure_function",
    "on_failure_queues",
    "parked",
    "peek",
    "read_dump",
    "read_failed_records",
    "release",
    "replay_failures",
    "replay_queue",
    "send_dump",
    "send_then_delete",
    "start_move_task",
]
