#!/usr/bin/env python
"""Regenerate and compile every Russian message catalog (``make messages``).

- each app (portal, catalog, billing, bookings, referrals, mailings) keeps its
  own catalog in ``<app>/locale/``: makemessages runs inside the app folder
  (its tests ignored);
- the project catalog in ``locale/`` covers the site templates in
  ``templates/`` only (the apps, .venv, var, e2e, bench, tests… are ignored).

makemessages merges with the existing .po files (msgmerge), so translations
already written are kept; strings that disappeared from the code are kept as
obsolete ``#~`` entries. Afterwards every catalog is compiled to .mo and a
short summary shows how many strings still need a translation.

    python scripts/messages.py            # all catalogs
    python scripts/messages.py catalog    # one app's catalog
    python scripts/messages.py templates  # only the project catalog
    python scripts/messages.py --check    # only report untranslated strings; exit 1 if any
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ["portal", "catalog", "billing", "bookings", "referrals", "mailings", "support"]
LANGUAGE = "ru"
# Ignored at the repository root. "<app>/*" ignores the app's files without
# hiding a templates/<app>/ folder, which a bare name would also match.
ROOT_IGNORES = [
    *(f"{app}/*" for app in APPS),
    ".venv",
    ".git",
    "var",
    "e2e",
    "bench",
    "tests",
    "scripts",
    "deploy",
    "docs",
    "static",
    "node_modules",
]
APP_IGNORES = ["tests", "migrations"]
PROJECT = "templates"  # the name of the project catalog's target


def django_admin(*args: str, cwd: Path) -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings", "PYTHONPATH": str(ROOT)}
    env.setdefault("DJANGO_DEBUG", "1")  # a development tool: the local defaults are fine
    # -P: inside portal/, the folder must not shadow installed packages (portal/celery.py vs celery).
    subprocess.run([sys.executable, "-P", "-m", "django", *args], cwd=cwd, env=env, check=True)


def catalogs() -> list[Path]:
    found = [ROOT / "locale" / LANGUAGE / "LC_MESSAGES" / "django.po"]
    found += [ROOT / app / "locale" / LANGUAGE / "LC_MESSAGES" / "django.po" for app in APPS]
    return [path for path in found if path.exists()]


def make_app(app: str) -> None:
    folder = ROOT / app
    # Without its own locale/ folder, makemessages would put the app's strings
    # into the project catalog (the first LOCALE_PATHS entry).
    (folder / "locale").mkdir(exist_ok=True)
    ignores = [f"--ignore={pattern}" for pattern in APP_IGNORES]
    django_admin("makemessages", "-l", LANGUAGE, *ignores, cwd=folder)


def make_project() -> None:
    (ROOT / "locale").mkdir(exist_ok=True)
    ignores = [f"--ignore={pattern}" for pattern in ROOT_IGNORES]
    django_admin("makemessages", "-l", LANGUAGE, *ignores, cwd=ROOT)


def compile_catalogs(targets: list[str]) -> None:
    """compilemessages for the chosen targets (apps and/or the project catalog)."""
    skipped = [app for app in APPS if app not in targets]
    ignores = [pattern for pattern in ROOT_IGNORES if not pattern.endswith("/*")] + skipped
    django_admin("compilemessages", "-l", LANGUAGE, *(f"--ignore={pattern}" for pattern in ignores), cwd=ROOT)


def statistics(po: Path) -> tuple[int, int, int]:
    """(translated, fuzzy, untranslated) as msgfmt counts them."""
    result = subprocess.run(
        ["msgfmt", "--statistics", "-o", os.devnull, str(po)], capture_output=True, text=True, check=True
    )
    numbers = {}
    for count, kind in re.findall(r"(\d+) (translated|fuzzy|untranslated)", result.stderr):
        numbers[kind] = int(count)
    return numbers.get("translated", 0), numbers.get("fuzzy", 0), numbers.get("untranslated", 0)


def report() -> int:
    missing = 0
    for po in catalogs():
        translated, fuzzy, untranslated = statistics(po)
        missing += fuzzy + untranslated
        flag = "" if not (fuzzy or untranslated) else "  <- needs translation"
        print(f"{po.relative_to(ROOT)}: {translated} translated, {fuzzy} fuzzy, {untranslated} untranslated{flag}")
    return missing


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "targets", nargs="*", help=f"apps and/or {PROJECT!r} (the project catalog); default: all of them"
    )
    parser.add_argument("--check", action="store_true", help="only report; exit 1 when a string lacks a translation")
    args = parser.parse_args()
    if shutil.which("msgfmt") is None:
        print("GNU gettext is required (Debian: apt-get install gettext).", file=sys.stderr)
        return 2
    if args.check:
        return 1 if report() else 0
    targets = args.targets or [*APPS, PROJECT]
    unknown = set(targets) - {*APPS, PROJECT}
    if unknown:
        parser.error(f"unknown target(s): {', '.join(sorted(unknown))}")
    for target in targets:
        print(f"--- {target}", flush=True)
        if target == PROJECT:
            make_project()
        else:
            make_app(target)
    compile_catalogs(targets)
    report()
    return 0


if __name__ == "__main__":
    sys.exit(main())
