"""Schemathesis against the live OpenAPI schema of a running portal, as one of three clients.

The engine is the one ``st run`` drives (examples, coverage, fuzzing and
stateful phases, every check); it loads ``/api/schema/`` from the server and
sends real HTTP requests (the test suite's live server). ``schemathesis.toml``
at the project root is its configuration, shared with the command line. Used
by tests/test_api_fuzz.py (CI: a bounded number of examples) and by
``make fuzz`` (more).
"""

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODES = ("anonymous", "tma", "vk")
# Mini App users of the fuzzing run (Telegram and VK ids no test uses).
TELEGRAM_USER = {"id": 700_000_001, "first_name": "Фаззер", "username": "fuzzer"}
VK_USER_ID = 700_000_002


def examples_per_operation() -> int:
    """Hypothesis examples per operation and phase: API_FUZZ_EXAMPLES, 8 by default (CI)."""
    return int(os.environ.get("API_FUZZ_EXAMPLES", "8"))


def authorization(mode: str) -> str | None:
    """The Authorization header of a client: none, Telegram Mini App launch data, or VK launch params."""
    from portal.tests.miniapp_signing import telegram_init_data, vk_launch_params

    if mode == "tma":
        return f"tma {telegram_init_data(user=TELEGRAM_USER)}"
    if mode == "vk":
        return f"vk {vk_launch_params(user_id=VK_USER_ID)}"
    return None


@dataclass
class FuzzResult:
    mode: str
    seed: int = 0
    operations: int = 0
    tested_operations: int = 0
    cases: int = 0
    links: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    phase_seconds: dict[str, float] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        phases = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in self.phase_seconds.items())
        return (
            f"API fuzzing as {self.mode}: {self.tested_operations}/{self.operations} operations, "
            f"{self.cases} test cases, {self.links} stateful links, "
            f"{len(self.failures)} failures, {len(self.errors)} errors, "
            f"{self.seconds:.0f} s, {self.cpu_seconds:.0f} s of CPU in this process ({phases}); seed {self.seed}"
        )

    def report(self) -> str:
        return "\n\n".join([self.summary(), *self.failures, *self.errors])


def fuzz(*, base_url: str, mode: str, max_examples: int | None = None, seed: int | None = None) -> FuzzResult:
    """Run every phase and check against the portal at ``base_url`` as ``mode``; collect figures and failures."""
    import schemathesis
    from schemathesis.engine import events, from_schema
    from schemathesis.engine.statistic import Statistic

    config = schemathesis.Config.from_path(ROOT / "schemathesis.toml")
    header = authorization(mode)
    config.projects.override.update(headers={"Authorization": header} if header else None, workers=1)
    config.projects.override.generation.update(max_examples=max_examples or examples_per_operation())
    if seed is not None:
        config.update(seed=seed, max_failures=None)
    schema = schemathesis.openapi.from_url(f"{base_url}/api/schema/", config=config)

    result = FuzzResult(mode=mode, seed=config.seed, operations=schema.statistic.operations.total)
    statistic = Statistic()
    started, cpu_started = time.monotonic(), time.process_time()
    for event in from_schema(schema).execute():
        if isinstance(event, events.PhaseStarted):
            phase_started = event.timestamp
            if event.payload is not None:
                result.links = event.payload.transitions_selected
        elif isinstance(event, events.PhaseFinished) and event.phase.is_enabled:
            name = event.phase.name.value
            result.phase_seconds[name] = result.phase_seconds.get(name, 0) + event.timestamp - phase_started
        elif isinstance(event, events.ScenarioFinished) and event.is_test_scenario:
            statistic.on_scenario_finished(event.recorder)
        elif isinstance(event, events.NonFatalError):
            result.errors.append(f"{event.label}: {event.info.format()}")
        elif isinstance(event, events.FatalError):
            result.errors.append(f"fatal: {event.exception!r}")
        elif isinstance(event, events.EngineFinished) and event.failures:
            statistic.record_run_check_failures(event.failures, label="after the run")
    result.seconds, result.cpu_seconds = time.monotonic() - started, time.process_time() - cpu_started
    result.cases = statistic.total_cases
    result.tested_operations = len(statistic.tested_operations)
    for label, groups in statistic.failures.items():
        for group in groups.values():
            lines = [f"{label}:"]
            lines += [f"  - {failure.title}: {failure.message}" for failure in group.failures]
            if group.response is not None:
                lines.append(f"  [{group.response.status_code}] {group.response.content[:500]!r}")
            if group.code_sample:
                lines.append(f"  {group.code_sample}")
            result.failures.append("\n".join(lines))
    return result
