"""Run every benchmark module (bench/bench_*.py) and print its table.

``python -m bench`` runs them all but the opt-in ones; ``python -m bench catalog``
only those whose name contains "catalog". The ten-minute soak (bench_soak) runs
only when named (``python -m bench soak``) or with ``BENCH_SOAK=1``.
"""

import importlib
import os
import sys
from pathlib import Path

# Benchmarks left out of a plain run, and the variable that brings them in.
OPT_IN = {"bench_soak": "BENCH_SOAK"}


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    here = Path(__file__).parent
    only = sys.argv[1:]
    modules = sorted(p.stem for p in here.glob("bench_*.py"))
    if only:
        modules = [m for m in modules if any(o in m for o in only)]
    else:
        modules = [m for m in modules if m not in OPT_IN or os.environ.get(OPT_IN[m]) == "1"]
    if not modules:
        print("No benchmark exists yet.")
        return 0
    failed = 0
    for name in modules:
        print(f"\n=== {name} ===", flush=True)
        module = importlib.import_module(f"bench.{name}")
        result = module.main()
        failed += 1 if result else 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
