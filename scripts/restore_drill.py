#!/usr/bin/env python
"""Backup and restore drill for PostgreSQL: dump, restore into a new database, compare row counts.

    python scripts/restore_drill.py --database-url postgres://user:pass@host:5432/citydesk

1. ``pg_dump --format=custom`` of the database (the same dump as the nightly
   backup in docs/operations.md), kept with ``--dump PATH``;
2. a scratch database ``<name>_restore_<timestamp>`` is created on the same
   server;
3. ``pg_restore --no-owner`` into it;
4. every table of the ``public`` schema is counted in both, and the
   extensions, constraints and triggers are compared;
5. the scratch database is dropped (``--keep`` leaves it for a look).

Prints a JSON report and exits 0 only when everything matches. Needs the
PostgreSQL client programs (pg_dump, pg_restore) of the server's major version
or newer, and a role that may create databases.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql


def with_database(url: str, name: str) -> str:
    """``url`` pointing at database ``name`` instead."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def pg_dump(url: str, path: Path) -> None:
    subprocess.run(["pg_dump", "--format=custom", "--no-owner", f"--file={path}", f"--dbname={url}"], check=True)


def pg_restore(url: str, path: Path) -> None:
    subprocess.run(
        ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", f"--dbname={url}", str(path)], check=True
    )


def database_create(url: str, name: str) -> None:
    with psycopg.connect(with_database(url, "postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name)))


def database_drop(url: str, name: str) -> None:
    with psycopg.connect(with_database(url, "postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def inventory(url: str) -> dict:
    """Row count of every table of the public schema, and the schema objects a restore must bring back."""
    with psycopg.connect(url) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name"
            )
        ]
        counts = {
            table: row[0]
            for table in tables
            if (row := conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone())
        }
        extensions = sorted(row[0] for row in conn.execute("SELECT extname FROM pg_extension"))
        constraints = sorted(
            row[0]
            for row in conn.execute(
                "SELECT conname FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace "
                "WHERE n.nspname = 'public'"
            )
        )
        triggers = sorted(
            row[0] for row in conn.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal ORDER BY tgname")
        )
    return {"counts": counts, "extensions": extensions, "constraints": constraints, "triggers": triggers}


def drill(url: str, *, dump: Path | None = None, keep: bool = False) -> dict:
    """Run the drill; returns the report (``ok`` is True when the restored copy matches)."""
    scratch = f"{database_name(url)}_restore_{time.strftime('%Y%m%d%H%M%S')}"[:63]
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as folder:
        path = dump or Path(folder) / "citydesk.dump"
        source = inventory(url)  # first: rows written while the dump runs would only be in the dump
        pg_dump(url, path)
        database_create(url, scratch)
        try:
            pg_restore(with_database(url, scratch), path)
            restored = inventory(with_database(url, scratch))
        finally:
            if not keep:
                database_drop(url, scratch)
        size = path.stat().st_size
    mismatched = {
        table: {"source": count, "restored": restored["counts"].get(table)}
        for table, count in source["counts"].items()
        if restored["counts"].get(table) != count
    }
    missing = {
        kind: sorted(set(source[kind]) - set(restored[kind])) for kind in ("extensions", "constraints", "triggers")
    }
    return {
        "ok": not mismatched and not any(missing.values()) and set(restored["counts"]) == set(source["counts"]),
        "database": database_name(url),
        "restored_into": scratch,
        "kept": keep,
        "dump_bytes": size,
        "tables": len(source["counts"]),
        "rows": sum(source["counts"].values()),
        "restored_counts": restored["counts"],
        "mismatched_tables": mismatched,
        "missing": missing,
        "seconds": round(time.monotonic() - started, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True, help="postgres://user:pass@host:port/name")
    parser.add_argument("--dump", type=Path, help="keep the dump at this path")
    parser.add_argument("--keep", action="store_true", help="leave the restored database in place")
    args = parser.parse_args()
    report = drill(args.database_url, dump=args.dump, keep=args.keep)
    json.dump(report, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
