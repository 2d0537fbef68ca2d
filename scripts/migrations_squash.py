#!/usr/bin/env python
"""Regenerate our apps' migrations from scratch: one generated ``0001_initial`` per app.

For fresh databases only (there is no production data yet): an existing
database must be dropped and migrated again afterwards.

1. The hand-written migrations (a line starting with ``# Hand-written:``) are
   set aside: the btree_gist extension, the catalog search trigger… They
   refer to the generated migrations by name (``0001_initial``), so they fit
   the new chain unchanged.
2. Every other migration file of our apps is deleted.
3. ``makemigrations`` writes a new ``0001_initial`` for each app, one app at
   a time from the lowest layer up (docs/architecture.md, Layers), so each
   app's migration depends on the finished ones below it and none is split in
   two. It runs against a throw-away SQLite database (an old database would
   disagree with the new history).
4. The hand-written migrations come back, and ``makemigrations --check``
   proves the chain matches the models.

    .venv/bin/python scripts/migrations_squash.py
"""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Lowest layer first (the reverse of the import-linter layers in pyproject.toml).
APPS = ["portal", "mailings", "catalog", "billing", "bookings", "referrals", "support"]
MARKER = "# Hand-written:"


def is_hand_written(path: Path) -> bool:
    return any(line.startswith(MARKER) for line in path.read_text(encoding="utf-8").splitlines())


def manage(*args: str, database: Path) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}"}
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


def main() -> int:
    with tempfile.TemporaryDirectory() as scratch:
        aside = Path(scratch) / "hand-written"
        database = Path(scratch) / "squash.sqlite3"
        kept: list[tuple[Path, Path]] = []
        for app in APPS:
            folder = ROOT / app / "migrations"
            for path in sorted(folder.glob("[0-9]*.py")):
                if is_hand_written(path):
                    target = aside / app / path.name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.move(path, target)
                    kept.append((target, path))
                else:
                    path.unlink()
            shutil.rmtree(folder / "__pycache__", ignore_errors=True)
        for app in APPS:
            manage("makemigrations", app, "--noinput", database=database)
        for target, path in kept:
            shutil.move(target, path)
            print(f"kept {path.relative_to(ROOT)}")
        manage("makemigrations", "--check", "--dry-run", database=database)
    return 0


if __name__ == "__main__":
    sys.exit(main())
