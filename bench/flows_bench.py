"""Flow engine benchmark: the same permit approval process, three ways, in one run.

    fill → exclusive gateway on the level → countersign of two (l1) or one approval (l2)
         → final check → end

1. SafeFlow's engine in memory (the flow imported from bench/permit.bpmn);
2. SpiffWorkflow 3.x running bench/permit.bpmn;
3. a hand-written Python state machine for exactly this process (the floor).

Prints instances/s and the ratios, then persisted task completions/s on SQLite (and PostgreSQL
when SAFEFLOW_BENCH_DATABASE_URL or SAFEFLOW_TEST_DATABASE_URL is set), next to SpiffWorkflow's
serialize + deserialize round trip per step. Run: `python bench/flows_bench.py [N]` (`--help`).
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.directory import StaticDirectory
from engine.flows import Action, FlowEngine, MemoryCatalog, MemoryFlowStore
from engine.flows.bpmn_import import import_bpmn
from engine.flows.persistence import SqlFlowStore

BPMN_FILE = Path(__file__).with_name("permit.bpmn")
ORG = {"users": [{"id": i, "username": n} for i, n in enumerate(["app", "w1", "w2", "s1", "chk"], start=1)]}
APP, W1, W2, S1, CHK = 1, 2, 3, 4, 5
LEVELS = ("l1", "l2")


# -- 1. SafeFlow ------------------------------------------------------------------------------

def safeflow_engine(store: Any = None) -> FlowEngine:
    definition = import_bpmn(BPMN_FILE.read_bytes(), key="permit").definition
    return FlowEngine(store=store or MemoryFlowStore(), catalog=MemoryCatalog([definition]),
                      directory=StaticDirectory.from_dict(ORG))


def safeflow_instance(engine: FlowEngine, level: str) -> int:
    """Start, then complete each open task as its assignee until the instance ends; returns completions."""
    inst = engine.start("permit", {}, APP)
    done = 0
    first = True
    while inst.status == "running":
        task = next(t for t in inst.tasks.values() if t.status == "open")
        data = {"level": level} if first else None
        first = False
        inst = engine.act(task.id, Action("submit" if task.kind == "fill" else "approve", task.assignee, data=data))
        done += 1
    assert inst.status == "completed", inst.status
    return done


# In-memory runs are timed in process CPU time: on a shared machine wall time mostly measures
# the neighbours. Persisted runs use wall time (the database's waits are part of the cost).
clock = time.process_time


def run_safeflow(n: int) -> float:
    engine = safeflow_engine()
    safeflow_instance(engine, "l1")  # compile outside the clock
    start = clock()
    for i in range(n):
        safeflow_instance(engine, LEVELS[i % 2])
    return clock() - start


# -- 2. SpiffWorkflow -------------------------------------------------------------------------

def spiff_spec() -> Any:
    from SpiffWorkflow.bpmn.parser import BpmnParser

    parser = BpmnParser()
    parser.add_bpmn_file(str(BPMN_FILE))
    return parser.get_spec("permit")


def spiff_instance(spec: Any, level: str, roundtrip: Any = None) -> int:
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
    from SpiffWorkflow.util.task import TaskState

    workflow = BpmnWorkflow(spec)
    workflow.do_engine_steps()
    done = 0
    while not workflow.is_completed():
        task = workflow.get_tasks(state=TaskState.READY, manual=True)[0]
        if task.task_spec.name == "fill":
            task.data["level"] = level
        task.run()
        workflow.do_engine_steps()
        done += 1
        if roundtrip is not None:
            workflow = roundtrip(workflow)
    return done


def run_spiff(n: int) -> float:
    spec = spiff_spec()
    spiff_instance(spec, "l1")
    start = clock()
    for i in range(n):
        spiff_instance(spec, LEVELS[i % 2])
    return clock() - start


def spiff_roundtrip_per_step(n: int) -> float:
    from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer

    serializer = BpmnWorkflowSerializer()
    spec = spiff_spec()

    def roundtrip(workflow: Any) -> Any:
        return serializer.deserialize_json(serializer.serialize_json(workflow))

    steps = 0
    start = clock()
    for i in range(n):
        steps += spiff_instance(spec, LEVELS[i % 2], roundtrip)
    return (clock() - start) / steps


# -- 3. the hand-written floor ----------------------------------------------------------------

class PermitMachine:
    """Exactly this process and nothing else: the floor no engine can beat."""

    __slots__ = ("level", "pending", "state")

    def __init__(self) -> None:
        self.state = "fill"
        self.pending: set[str] = set()
        self.level = ""

    def submit(self, level: str) -> None:
        self.level = level
        if level == "l1":
            self.state, self.pending = "countersign", {"w1", "w2"}
        else:
            self.state = "single"

    def approve(self, who: str) -> None:
        if self.state == "countersign":
            self.pending.discard(who)
            if not self.pending:
                self.state = "final"
        elif self.state == "single":
            self.state = "final"
        elif self.state == "final":
            self.state = "done"


def run_machine(n: int) -> float:
    start = clock()
    for i in range(n):
        machine = PermitMachine()
        machine.submit(LEVELS[i % 2])
        if machine.state == "countersign":
            machine.approve("w1")
            machine.approve("w2")
        else:
            machine.approve("s1")
        machine.approve("chk")
        assert machine.state == "done"
    return clock() - start


# -- persisted ----------------------------------------------------------------------------------

def persisted_completions_per_second(url: str, n: int, audited: bool = True) -> tuple[float, float]:
    """(completions per wall-clock second, completions per CPU second of this process)."""
    from engine.store import migrate
    from engine.store.db import Database

    database = Database(url)
    migrate.upgrade(database.engine)
    store = SqlFlowStore(database=database, audited=audited)
    engine = safeflow_engine(store)
    safeflow_instance(engine, "l1")
    completions = 0
    start, cpu = time.perf_counter(), time.process_time()
    for i in range(n):
        completions += safeflow_instance(engine, LEVELS[i % 2])
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    store.close()
    database.dispose()
    return completions / elapsed, completions / cpu


def _sqlite_urls() -> Iterator[str]:
    while True:
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{tmp}/bench.sqlite3"


def _pg_urls() -> Iterator[str]:
    while True:
        url = _pg_url()
        assert url is not None
        yield url


def _print_persisted(backend: str, urls: Callable[[], Iterator[str]], n: int, note: str) -> None:
    """Both runs on fresh databases, then what the audit entry adds to a completion in CPU time
    (the difference of the two runs: the product always writes it)."""
    cpu_rates = []
    for audited, url in zip((True, False), urls(), strict=False):
        label = "with audit entry" if audited else "flow tables only"
        wall, cpu = persisted_completions_per_second(url, n, audited)
        cpu_rates.append(cpu)
        print(f"  {backend + ', ' + label:<32} {wall:>6,.0f} completions/s wall, {cpu:>6,.0f} per CPU-second{note}")
    audit_us = (1 / cpu_rates[0] - 1 / cpu_rates[1]) * 1e6
    print(f"  {backend}: {1e6 / cpu_rates[0]:,.0f} us CPU per audited completion, of which the audit entry "
          f"{audit_us:,.0f} us ({audit_us * cpu_rates[0] / 1e4:.0f} %)")


def _pg_url() -> str | None:
    url = os.environ.get("SAFEFLOW_BENCH_DATABASE_URL") or os.environ.get("SAFEFLOW_TEST_DATABASE_URL")
    if not url:
        return None
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base = make_url(url)
    name = f"{base.database}_flows_bench"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", nargs="?", type=int, default=2000, help="instances per in-memory run (default 2000)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="in-memory rounds, the three runs interleaved; the median is printed (default 3)")
    parser.add_argument("--persisted", type=int, default=None,
                        help="instances per persisted run (default n/10, at least 50); 0 skips them")
    return parser.parse_args(argv)


def _median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def main(argv: list[str]) -> None:
    args = _arguments(argv)
    n = args.n
    rounds: dict[str, list[float]] = {"ours": [], "spiff": [], "floor": []}
    for _ in range(max(1, args.rounds)):
        gc.collect()
        rounds["ours"].append(n / run_safeflow(n))
        rounds["spiff"].append(n / run_spiff(n))
        rounds["floor"].append(n / run_machine(n))
    ours, spiff, floor = (_median(rounds[k]) for k in ("ours", "spiff", "floor"))
    print(f"permit process, {n} instances each (half countersign of two, half single approval); "
          f"CPU time, median of {len(rounds['ours'])} interleaved rounds; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"  SafeFlow engine (memory)     {ours:>12,.0f} instances/s")
    print(f"  SpiffWorkflow {_spiff_version():<14} {spiff:>12,.0f} instances/s")
    print(f"  hand-written state machine   {floor:>12,.0f} instances/s")
    print(f"  SafeFlow / SpiffWorkflow     {ours / spiff:>12.1f}x   (aim: >= 50x)")
    print(f"  state machine / SafeFlow     {floor / ours:>12.1f}x   (aim: <= 20x)")
    persisted_n = max(50, n // 10) if args.persisted is None else args.persisted
    if persisted_n <= 0:
        return
    print(f"persisted task completions ({persisted_n} instances, one transaction per action; "
          f"load average {os.getloadavg()[0]:.1f})")
    _print_persisted("SQLite", _sqlite_urls, persisted_n, "   (aim: >= 1,000/s)")
    if _pg_url() is not None:
        _print_persisted("PostgreSQL", _pg_urls, persisted_n, " (client side)")
    else:
        print("  PostgreSQL                   (set SAFEFLOW_BENCH_DATABASE_URL to measure)")
    per_step = spiff_roundtrip_per_step(max(20, n // 40))
    print(f"  SpiffWorkflow serialize+deserialize per step {per_step * 1000:.3f} ms "
          f"(= at most {1 / per_step:,.0f} steps/s before any database)")


def _spiff_version() -> str:
    from importlib.metadata import version

    return version("SpiffWorkflow")


if __name__ == "__main__":
    main(sys.argv[1:])
