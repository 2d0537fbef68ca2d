"""What this process sends to Redis, one entry per round trip, for tests that count them."""

import re
from contextlib import contextmanager

from redis.connection import AbstractConnection

_COMMAND = re.compile(rb"\*\d+\r\n\$\d+\r\n([A-Za-z]+)\r\n")


@contextmanager
def redis_round_trips():
    """Record each write to a Redis connection (a command, or a pipeline's commands: one round
    trip) as the list of command names it carried, upper case. Yields the list of round trips."""
    trips: list[list[str]] = []
    send = AbstractConnection.send_packed_command

    def recording(self, command, check_health=True):
        packed = command if isinstance(command, bytes | bytearray) else b"".join(bytes(part) for part in command)
        trips.append([name.decode().upper() for name in _COMMAND.findall(packed)])
        return send(self, command, check_health)

    AbstractConnection.send_packed_command = recording
    try:
        yield trips
    finally:
        AbstractConnection.send_packed_command = send
