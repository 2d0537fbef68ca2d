"""What processes cost, read from /proc: CPU seconds of a process tree, RSS, the machine's busy time.

CPU is counted in seconds of one core (``utime + stime``); a group's
``cutime + cstime`` (children that exited and were waited for, such as
gunicorn workers recycled by their master) is added, so a worker that ends
between two readings is still counted once.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # The command name is in parentheses and may hold spaces: split after the last ")".
    return text[text.rindex(")") + 2 :].split()


def cpu_seconds(pid: int, *, children: bool = False) -> float:
    """CPU seconds used by ``pid`` (and by its waited-for children when ``children``); 0 when gone."""
    fields = _stat_fields(pid)
    if fields is None:
        return 0.0
    # fields[0] is field 3 (state): utime 14, stime 15, cutime 16, cstime 17.
    ticks = int(fields[11]) + int(fields[12])
    if children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / TICKS


def children_of(pid: int) -> list[int]:
    """Direct children of ``pid`` (Linux ≥ 3.5 with /proc/<pid>/task/*/children)."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(x) for x in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return found


def tree(pid: int) -> list[int]:
    """``pid`` and all its descendants."""
    pids, pending = [], [pid]
    while pending:
        current = pending.pop()
        pids.append(current)
        pending += children_of(current)
    return pids


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of a process group rooted at ``pid``: live processes plus waited-for dead children."""
    total = cpu_seconds(pid, children=True)
    for child in tree(pid)[1:]:
        total += cpu_seconds(child, children=True)
    return total


def rss_bytes(pid: int) -> int:
    """Resident set size of ``pid`` in bytes (0 when gone)."""
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return 0


def pss_bytes(pid: int) -> int:
    """Proportional set size of ``pid`` in bytes: its private pages plus its share of pages shared
    with other processes (a preloaded gunicorn's workers share the application's code with the
    master); 0 when gone or unreadable."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return 0


def pids_named(name: str) -> list[int]:
    """Processes whose command name (``comm``) is ``name``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == name:
                    found.append(int(entry.name))
            except (FileNotFoundError, ProcessLookupError, PermissionError):
                continue
    return found


def machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all cores since boot, from /proc/stat."""
    values = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values[:8])  # without guest time, already counted in user
    return total - idle, total


def load_average() -> float:
    return os.getloadavg()[0]


@dataclass
class CpuReading:
    """CPU seconds per role at one moment; ``later - earlier`` is a :class:`CpuUse`.

    ``postgres`` maps backend pids to their CPU seconds: a backend that started
    in between counts whole, one that ended in between is missed (persistent
    connections make that rare).
    """

    server: float
    client: float
    postgres: dict[int, float]
    redis: float
    proxy: float
    machine_busy: float  # seconds of all cores busy (any process, ours or not)
    wall: float

    def __sub__(self, earlier: CpuReading) -> CpuUse:
        postgres = sum(cpu - earlier.postgres.get(pid, 0.0) for pid, cpu in self.postgres.items())
        return CpuUse(
            server=self.server - earlier.server,
            client=self.client - earlier.client,
            postgres=max(0.0, postgres),
            redis=self.redis - earlier.redis,
            proxy=self.proxy - earlier.proxy,
            machine_busy=self.machine_busy - earlier.machine_busy,
            wall=self.wall - earlier.wall,
        )


@dataclass
class CpuUse:
    """CPU seconds per role over a period."""

    server: float
    client: float
    postgres: float
    redis: float
    proxy: float
    machine_busy: float
    wall: float

    def cores(self) -> dict[str, float]:
        """Average cores busy per role (1.0 = one core all the time); "other" is everything else running."""
        wall = self.wall or 1.0
        ours = self.server + self.client + self.postgres + self.redis + self.proxy
        return {
            "server": self.server / wall,
            "client": self.client / wall,
            "postgres": self.postgres / wall,
            "redis": self.redis / wall,
            "proxy": self.proxy / wall,
            "other": max(0.0, self.machine_busy - ours) / wall,
            "machine": self.machine_busy / wall,
        }


def machine_busy_seconds() -> float:
    busy, _total = machine_ticks()
    return busy / TICKS


class CpuMeter:
    """Reads the CPU of the roles of a benchmark: the server process groups, this process (the
    load generator), the PostgreSQL backends of one database, Redis and the proxy."""

    def __init__(self, *, server_pids, database: str, pg_url: str, proxy_pids=()):
        self.server_pids = list(server_pids)
        self.proxy_pids = list(proxy_pids)
        self.database = database
        self.pg_url = pg_url
        self.redis_pids = pids_named("redis-server")
        self._conn: Any = None

    def _backends(self) -> list[int]:
        import psycopg

        if self._conn is None:
            self._conn = psycopg.connect(f"{self.pg_url}/postgres", autocommit=True)
        rows = self._conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [self.database]
        ).fetchall()
        return [row[0] for row in rows]

    def read(self) -> CpuReading:
        import time

        times = os.times()
        return CpuReading(
            server=sum(tree_cpu_seconds(pid) for pid in self.server_pids),
            client=times.user + times.system,
            postgres={pid: cpu_seconds(pid) for pid in self._backends()},
            redis=sum(cpu_seconds(pid) for pid in self.redis_pids),
            proxy=sum(tree_cpu_seconds(pid) for pid in self.proxy_pids),
            machine_busy=machine_busy_seconds(),
            wall=time.monotonic(),
        )

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
