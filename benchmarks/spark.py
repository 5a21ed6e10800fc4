"""Planning on Spark (local mode) against ``plan_parquet`` and ``plan_frames``, on the same
Parquet file, in the same run.

    python -m benchmarks.spark --n 1000000                 # 1 and 2 cores, 8 partitions
    python -m benchmarks.spark --n 100000 --cores 2 --partitions 4
    python -m benchmarks.spark --n 10000000 --cores 2 --partitions 80   # 125k a partition

The data is :func:`benchmarks.columnar.write_parquet`'s (grouped B2B purchases of a
Zipf-like customer pool, ~2 % voided, ~1 % without an amount), written once into a
temporary directory (or ``--data``) in row groups of 128k rows, so Spark reads it in
several tasks. Each engine runs in a process of its own:

* ``plan_parquet`` (the file streamed in batches) and ``plan_frames`` (the file read
  into a Polars frame first, not timed): time and the process's peak RSS;
* ``plan_spark`` on ``local[c]`` for each ``--cores`` value: the time of the job
  (``plan_spark`` and ``counts()``, which runs both stages; after a warm-up job on a
  thousand rows, so the Python workers have imported the library), the peak RSS of the
  Python driver, of the JVM (driver and executor in local mode) and of the Python
  workers (each one's, and their sum: an upper bound of what they held at once), and
  the shuffle bytes written (from the JVM's status store, per stage of the job).

``CPU s`` is the CPU time of the engine's process during the timed part (Spark: of the
JVM and the Python workers, sampled from ``/proc``, and the driver); on a shared machine
it says more than the wall time. ``µs/purchase/core`` is the time times the cores over
the purchases. The engines' invoice counts and invoiced totals are checked to agree.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks.suite import run_json

ROW_GROUP = 128 * 1024


def write_data(path: Path, n: int, seed: int) -> None:
    """``n`` purchases of :class:`benchmarks.columnar.Data` to ``path``."""
    from benchmarks.columnar import write_parquet

    write_parquet(path, n, seed, row_group_size=ROW_GROUP)


def peak_self() -> int:
    """This process's peak RSS in bytes: ``VmHWM`` where there is one (``ru_maxrss``
    carries over from the parent across fork and exec, which wrote the data)."""
    return _kib(_status(os.getpid()).get("VmHWM")) or (
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    )


def _status(pid: int) -> dict[str, str]:
    try:
        with open(f"/proc/{pid}/status") as lines:
            return dict(line.split(":", 1) for line in lines if ":" in line)
    except OSError:
        return {}


def _kib(field: str | None) -> int:
    return int(field.split()[0]) * 1024 if field else 0


def _cpu_seconds(pid: int) -> float:
    """The user and system CPU time ``pid`` has used so far (0 when unreadable)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Peaks:
    """The peak RSS (``VmHWM``) of a process and of each of its descendants, and the CPU
    time they use, sampled every ``every`` seconds on a thread (Linux ``/proc``; zeros
    elsewhere)."""

    def __init__(self, root: int, every: float = 0.2) -> None:
        self.root, self.every = root, every
        self.peaks: dict[int, tuple[str, int]] = {}
        self.cpu: dict[int, float] = {}
        self.cpu_from: dict[int, float] = {}
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _descendants(self) -> list[int]:
        parents: dict[int, list[int]] = {}
        for entry in os.listdir("/proc") if os.path.isdir("/proc") else ():
            if entry.isdigit():
                ppid = _status(int(entry)).get("PPid")
                if ppid:
                    parents.setdefault(int(ppid), []).append(int(entry))
        found, todo = [], [self.root]
        while todo:
            pid = todo.pop()
            found.append(pid)
            todo.extend(parents.get(pid, ()))
        return found

    def sample(self) -> None:
        for pid in self._descendants():
            status = _status(pid)
            peak = _kib(status.get("VmHWM"))
            name = status.get("Name", "?").strip()
            if peak > self.peaks.get(pid, ("", 0))[1]:
                self.peaks[pid] = (name, peak)
            self.cpu[pid] = max(self.cpu.get(pid, 0.0), _cpu_seconds(pid))

    def start_cpu(self) -> None:
        """Count CPU time from now on (a process that ends between two samples loses
        what it used since the last)."""
        self.sample()
        self.cpu_from = dict(self.cpu)

    def _run(self) -> None:
        while not self.done.wait(self.every):
            self.sample()

    def stop(self) -> dict[str, int]:
        """The JVM's peak, the largest Python worker's, the workers' summed peaks, and
        the CPU seconds the JVM and the workers used since :meth:`start_cpu`."""
        self.sample()
        self.done.set()
        self.thread.join()
        jvm = self.peaks.get(self.root, ("", 0))[1]
        workers = [peak for pid, (name, peak) in self.peaks.items()
                   if pid != self.root and name.startswith("python")]  # fmt: skip
        cpu = sum(used - self.cpu_from.get(pid, 0.0) for pid, used in self.cpu.items())
        return {"jvm": jvm, "worker": max(workers, default=0), "workers": sum(workers),
                "cpu": cpu}  # fmt: skip


def spark_session(cores: int, partitions: int) -> Any:
    from pyspark.sql import SparkSession

    os.environ["PYSPARK_PYTHON"] = sys.executable
    session = (
        SparkSession.builder.master(f"local[{cores}]")
        .appName("kravia-schedule-benchmark")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", str(partitions))
        .config("spark.sql.adaptive.enabled", "false")  # the partitions as asked
        .config("spark.sql.files.maxPartitionBytes", "8m")
        .config("spark.driver.memory", "4g")
        # Shuffle files in a folder of the run's own: /tmp is shared and cleaned by others.
        .config("spark.local.dir", tempfile.mkdtemp(prefix="kravia-spark-bench-local-"))
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session


def stage_figures(session: Any, group: str) -> list[tuple[int, int, float]]:
    """Per completed stage of the jobs of ``group``: shuffle bytes written, tasks, and
    the tasks' summed run time in seconds (from the JVM's status store)."""
    context = session.sparkContext
    tracker, store = context.statusTracker(), context._jsc.sc().statusStore()
    stages = {s for job in tracker.getJobIdsForGroup(group)
              for s in tracker.getJobInfo(job).stageIds}  # fmt: skip
    figures = []
    for stage in sorted(stages):
        data = store.lastStageAttempt(stage)
        if data.status().toString() == "COMPLETE":
            figures.append(
                (int(data.shuffleWriteBytes()), int(data.numTasks()), data.executorRunTime() / 1e3)
            )
    return figures


def run_spark(path: Path, cores: int, partitions: int) -> dict[str, Any]:
    from pyspark.sql import functions as F

    from kravia_schedule.spark import plan_spark

    start = time.perf_counter()
    session = spark_session(cores, partitions)
    started = time.perf_counter() - start
    df = session.read.parquet(str(path))
    peaks = Peaks(session.sparkContext._gateway.proc.pid)
    warm = plan_spark(df.limit(1000), partitions=partitions)
    warm.counts()
    warm.unpersist()
    session.sparkContext.setJobGroup("plan", "the timed plan")
    peaks.start_cpu()
    start, driver_cpu = time.perf_counter(), time.process_time()
    result = plan_spark(df, partitions=partitions)
    counts = result.counts()
    seconds = time.perf_counter() - start
    memory = peaks.stop()
    memory["cpu"] += time.process_time() - driver_cpu
    total = result.invoices.agg(F.sum("amount")).first()[0]
    stages = stage_figures(session, "plan")
    session.stop()
    return {"seconds": seconds, "startup": started, "driver": peak_self(), **memory,
            "shuffle": sum(written for written, _, _ in stages), "stages": stages,
            "invoices": counts["invoices"], "lines": counts["lines"],
            "skipped": counts["skipped"], "rejected": counts["rejected"],
            "amount": int(total or 0)}  # fmt: skip


def run_local(engine: str, path: Path) -> dict[str, Any]:
    import polars as pl

    from kravia_schedule.columnar import plan_frames, plan_parquet

    plan_frames(pl.read_parquet(path, n_rows=1000))  # warmed up: imports, calendars
    if engine == "plan_frames":
        df = pl.read_parquet(path).rechunk()
        start, cpu_start = time.perf_counter(), time.process_time()
        plan = plan_frames(df)
    else:
        start, cpu_start = time.perf_counter(), time.process_time()
        plan = plan_parquet(path)
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    skipped, rejected = plan.residue_counts()
    return {"seconds": seconds, "cpu": cpu, "driver": peak_self(),
            "invoices": plan.invoices.height,
            "lines": int(plan.invoices["purchases"].sum()), "skipped": skipped,
            "rejected": rejected, "amount": int(plan.invoices["amount"].sum())}  # fmt: skip


def _mib(value: int | None) -> str:
    return f"{value / 2**20:,.0f}" if value else "-"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.spark", description=__doc__)
    parser.add_argument("--n", type=int, default=1_000_000, help="purchases")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cores", default="1,2", help="local[c] for each c, comma-separated")
    parser.add_argument("--partitions", type=int, default=8, help="partitions per shuffle")
    parser.add_argument("--data", type=Path, help="the Parquet file (written if missing)")
    parser.add_argument("--engine", help=argparse.SUPPRESS)  # a child process's engine
    args = parser.parse_args(argv)
    if args.engine is not None:
        import json

        if args.engine.startswith("spark:"):
            row = run_spark(args.data, int(args.engine[6:]), args.partitions)
        else:
            row = run_local(args.engine, args.data)
        print(json.dumps(row))
        return 0
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="kravia-spark-bench-") as scratch:
        path = args.data or Path(scratch) / "purchases.parquet"
        if not path.exists():
            write_data(path, args.n, args.seed)
        engines = ["plan_parquet", "plan_frames"]
        engines += [f"spark:{int(c)}" for c in args.cores.split(",")]
        rows: dict[str, dict[str, Any]] = {}
        for engine in engines:
            figures, why = run_json(
                "benchmarks.spark",
                ["--engine", engine, "--data", str(path), "--partitions", str(args.partitions)],
            )
            if figures is None:
                print(f"{engine}: failed: {why}")
                return 1
            rows[engine] = figures
            print(f"{engine}: {figures}", flush=True)  # kept should a later engine fail
    print(f"{args.n:,} purchases from Parquet; Spark: {args.partitions} partitions per shuffle")
    loads = ", ".join(f"{a:.1f}/{b:.1f}" for a, b in zip(load_before, os.getloadavg(), strict=True))
    print(f"load average (1, 5, 15 min) at the start/end of the run: {loads}")
    print(f"{'engine':<14}{'cores':>6}{'seconds':>9}{'CPU s':>8}{'µs/purchase/core':>18}"
          f"{'driver MiB':>12}{'JVM MiB':>9}{'worker MiB':>12}{'workers MiB':>13}"
          f"{'shuffle MiB':>13}")  # fmt: skip
    for engine, row in rows.items():
        cores = int(engine[6:]) if engine.startswith("spark:") else 1
        name = "plan_spark" if engine.startswith("spark:") else engine
        per_core = row["seconds"] * cores / args.n * 1e6
        print(f"{name:<14}{cores:>6}{row['seconds']:>9.1f}{row['cpu']:>8.1f}{per_core:>18.1f}"
              f"{_mib(row['driver']):>12}{_mib(row.get('jvm')):>9}"
              f"{_mib(row.get('worker')):>12}{_mib(row.get('workers')):>13}"
              f"{_mib(row.get('shuffle')):>13}")  # fmt: skip
    for engine, row in rows.items():
        if "shuffle" in row:
            print(f"{engine}: session start {row['startup']:.1f} s, shuffle "
                  f"{row['shuffle'] / args.n:.0f} B/purchase; stages (tasks, run time "
                  "summed over tasks, shuffle written): " + ", ".join(
                      f"{tasks} {run:.1f} s {written / 2**20:,.0f} MiB"
                      for written, tasks, run in row["stages"]))  # fmt: skip
    keys = ("invoices", "lines", "skipped", "rejected", "amount")
    outcomes = {tuple(row[k] for k in keys) for row in rows.values()}
    first = next(iter(rows.values()))
    print("invoices {:,}, lines {:,}, skipped {:,}, rejected {:,}".format(
        *(first[k] for k in keys[:4])))  # fmt: skip
    if len(outcomes) != 1:
        print("the engines DISAGREE: " + "; ".join(f"{e}: {[r[k] for k in keys]}"
                                                   for e, r in rows.items()))  # fmt: skip
        return 1
    print("the engines agree (invoices, lines, skipped, rejected, invoiced total)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
