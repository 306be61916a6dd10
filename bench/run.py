"""The benchmark: our build against the naive baseline on synthetic decks, as ratios from one run.

For each deck size N (synthetic decks of the agreed shape, see generate.py, written to
bench/work/) it measures, each whole process timed from outside and the best of --repeat runs:

- the naive baseline (naive.py), full and ``--apkg-only``;
- ``deck build`` cold (the cache folder deleted first), full and ``--format apkg``, and full
  with ``DECK_SERIAL=1`` (one core, to show what the second core is worth);
- ``deck build`` warm: after a cold build, one card in the middle of the deck edited;
- the peak memory of the cold full build (largest process, and the process tree's summed PSS);
- our stages in one process (load, render + lock, .apkg, PDF), no cache, one core;
- ``make deck`` when nothing changed (on the N = 400 deck).

N = 10,000 is measured for our build only (cold, warm, memory; one run each), which keeps
the benchmark at a few minutes; ``--naive-all`` also runs the naive baseline and the stage
timings there (about two more minutes). Results go to stdout and to bench/results.md.

Usage: python bench/run.py [--sizes 400,2000,10000] [--repeat 3] [--naive-all] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
WORK = BENCH / "work"
sys.path.insert(0, str(BENCH))

from generate import deck_yaml  # noqa: E402 - bench/ is not a package

PYTHON = sys.executable
DECK = [PYTHON, "-m", "pipeline"]
STEM = "bench-deck"
BIG = 10_000
TARGETS = {"full": 0.35, "apkg": 0.6, "scaling": 5.5, "memory_mb": 600, "warm": 0.5, "make": 0.2}


# -- measuring processes ------------------------------------------------------------------------


@dataclass
class Run:
    """One whole process: wall time, peak memory and what it printed."""

    seconds: float
    max_rss_mb: float
    """Largest resident set of the process or any of its children (wait4's ru_maxrss)."""
    tree_pss_mb: float
    """Peak of the summed proportional set size of the process tree (sampled every 20 ms)."""
    stdout: str


def _tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        try:
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        todo.extend(int(c) for c in children)
    return pids


def _pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def run(args: list[str], env: dict[str, str] | None = None, cwd: Path = ROOT) -> Run:
    """Run ``args`` to completion; fail loudly if it fails (a benchmark of errors measures nothing)."""
    environment = {**os.environ, **(env or {})}
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(args, cwd=cwd, env=environment, stdout=out, stderr=err)
        peak = [0]
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], sum(_pss_kb(p) for p in _tree(process.pid)))
                done.wait(0.02)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        # wait4 rather than Popen.wait: it also reports the peak RSS (of the process or the
        # largest of the children it waited for, such as the PDF worker).
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        done.set()
        sampler.join()
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if process.returncode:
        raise SystemExit(f"benchmark step failed ({process.returncode}): {' '.join(args)}\n{stderr}")
    return Run(seconds, usage.ru_maxrss / 1024, peak[0] / 1024, stdout)


def best(runs: list[Run]) -> Run:
    """The fastest run (the least disturbed by anything else on the machine)."""
    return min(runs, key=lambda r: r.seconds)


# -- the measurements ---------------------------------------------------------------------------


@dataclass
class Size:
    """Everything measured at one deck size."""

    n: int
    naive: Run | None = None
    naive_apkg: Run | None = None
    cold: Run | None = None
    cold_apkg: Run | None = None
    serial: Run | None = None
    warm: Run | None = None
    stages: dict[str, float] = field(default_factory=dict)
    naive_stages: dict[str, float] = field(default_factory=dict)


def deck_file(n: int) -> Path:
    """The synthetic deck of ``n`` cards (written once; deterministic)."""
    path = WORK / f"deck-{n}" / "deck.yaml"
    text = deck_yaml(n)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        path.with_name("deck.lock.json").unlink(missing_ok=True)
    return path


def edit(source: Path, n: int, variant: int) -> None:
    """Edit one card in the middle of the deck: append a sentence to its answer."""
    text = deck_yaml(n)
    start = text.index(f"- id: card-{n // 2}\n")
    end = text.index("\n", text.index("a: |\n", start) + len("a: |\n"))
    source.write_text(text[:end] + f" Edited {variant} times for the warm build." + text[end:],
                      encoding="utf-8")


def build(source: Path, out: Path, *extra: str, cold: bool = True, env: dict[str, str] | None = None) -> Run:
    """One ``deck build`` process; ``cold`` deletes the cache folder first."""
    if cold:
        shutil.rmtree(out / ".cache", ignore_errors=True)
    return run([*DECK, "build", str(source), "--out", str(out), "--quiet", *extra], env=env)


def stage_times(source: Path) -> dict[str, float]:
    """Our stages, in a fresh process (see :func:`_stages`)."""
    result = run([PYTHON, __file__, "--stages", str(source)])
    return dict(json.loads(result.stdout))


def _stages(source: Path) -> None:
    """Time each stage in this process: no cache, no fork, the token stream shared as in serial."""
    started = time.perf_counter()
    from pipeline import anki, pdf
    from pipeline.build import release
    from pipeline.load import load
    from pipeline.options import SheetOptions

    times = {"imports": time.perf_counter() - started}
    mark = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        times[name] = now - mark
        mark = now

    deck = load(source)
    lap("load")
    outcome = release(deck, source)  # renders every card: the lock hashes the notes' HTML
    lap("render")
    target = WORK / "stages.apkg"
    anki.write(deck, target, outcome.lock)
    lap("apkg")
    pdf.render(deck, SheetOptions(), None, lambda: outcome.lock.newest)
    lap("pdf")
    target.unlink()
    print(json.dumps(times))


def naive(source: Path, out: Path, *extra: str) -> tuple[Run, dict[str, float]]:
    """One naive.py process, and the stage times it prints."""
    result = run([PYTHON, str(BENCH / "naive.py"), str(source), str(out), *extra])
    stages = dict((k, float(v)) for k, v in (part.split("=") for part in result.stdout.split()))
    return result, stages


def measure(n: int, repeat: int, with_naive: bool) -> Size:
    """Every measurement at size ``n``."""
    size = Size(n)
    source = deck_file(n)
    out = source.parent / "out"
    print(f"N = {n:,}", flush=True)
    build(source, out)  # creates the lock, so that every measured build finds it current
    if with_naive:
        runs = [naive(source, source.parent / "naive") for _ in range(repeat)]
        size.naive, size.naive_stages = min(runs, key=lambda r: r[0].seconds)
        size.naive_apkg = best([naive(source, source.parent / "naive", "--apkg-only")[0]
                                for _ in range(repeat)])
        size.stages = stage_times(source)
        size.serial = best([build(source, out, env={"DECK_SERIAL": "1"}) for _ in range(repeat)])
    size.cold_apkg = best([build(source, out, "--format", "apkg") for _ in range(repeat)])
    size.cold = best([build(source, out) for _ in range(repeat)])
    warm = []
    for variant in range(1, repeat + 1):
        build(source, out)  # cold, to leave a cache of the unedited deck
        edit(source, n, variant)
        warm.append(build(source, out, cold=False))
        source.write_text(deck_yaml(n), encoding="utf-8")
    size.warm = best(warm)
    build(source, out)  # back to the unedited deck and its lock
    return size


def make_noop(repeat: int) -> float:
    """Seconds of ``make deck`` when its outputs are up to date (on the N = 400 deck)."""
    source = deck_file(400)
    out = source.parent / "make-out"
    variables = [f"SOURCE={source}", f"LOCK={source.with_name('deck.lock.json')}", f"OUT={out}",
                 f"DECKID={STEM}"]
    run(["make", "--no-print-directory", "deck", *variables])  # builds if needed
    runs = [run(["make", "--no-print-directory", "deck", *variables]) for _ in range(repeat)]
    for r in runs:
        if "deck build" in r.stdout:
            raise SystemExit("make deck rebuilt although nothing changed")
    return best(runs).seconds


# -- the report ---------------------------------------------------------------------------------


def _s(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f} s"


def _x(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}×"


def _ok(good: bool) -> str:
    return "met" if good else "**missed**"


def report(sizes: list[Size], make_seconds: float, repeat: int, started: str, load: str) -> str:
    """The results as markdown: absolute times, ratios, targets."""
    by_n = {s.n: s for s in sizes}
    lines = [
        "# Benchmark results",
        "",
        f"Written by `bench/run.py` on {started}: {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, load average before the run {load}. Each time is "
        f"the best of {repeat} runs of a whole process (N = {BIG:,}: one run), cold means "
        "no cache (`build/.cache` deleted), warm means after editing one card.",
        "",
        "| N | naive | naive .apkg | ours cold | ours .apkg | ours serial | ours warm | peak memory |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s in sizes:
        memory = (f"{s.cold.max_rss_mb:.0f} MB largest process, {s.cold.tree_pss_mb:.0f} MB all"
                  if s.cold else "–")
        lines.append(f"| {s.n:,} | {_s(s.naive and s.naive.seconds)} | "
                     f"{_s(s.naive_apkg and s.naive_apkg.seconds)} | {_s(s.cold and s.cold.seconds)} | "
                     f"{_s(s.cold_apkg and s.cold_apkg.seconds)} | {_s(s.serial and s.serial.seconds)} | "
                     f"{_s(s.warm and s.warm.seconds)} | {memory} |")
    lines += ["", "Ratios (lower is better):", "",
              "| N | full build / naive | .apkg build / naive .apkg | warm / cold | serial / cold |",
              "|---|---|---|---|---|"]
    for s in sizes:
        full = s.cold.seconds / s.naive.seconds if s.cold and s.naive else None
        apkg = s.cold_apkg.seconds / s.naive_apkg.seconds if s.cold_apkg and s.naive_apkg else None
        warm = s.warm.seconds / s.cold.seconds if s.warm and s.cold else None
        serial = s.serial.seconds / s.cold.seconds if s.serial and s.cold else None
        lines.append(f"| {s.n:,} | {_x(full)} | {_x(apkg)} | {_x(warm)} | {_x(serial)} |")

    lines += ["", "Stages in one process (no cache, one core; seconds):", "",
              "| N | | imports | load | render (+ lock) | .apkg | PDF |", "|---|---|---|---|---|---|---|"]
    for s in sizes:
        if s.stages:
            t = s.stages
            lines.append(f"| {s.n:,} | ours | {t['imports']:.2f} | {t['load']:.2f} | {t['render']:.2f} | "
                         f"{t['apkg']:.2f} | {t['pdf']:.2f} |")
        if s.naive_stages:
            t = s.naive_stages
            lines.append(f"| {s.n:,} | naive | – | {t['load']:.2f} | {t['render']:.2f} | "
                         f"{t['apkg']:.2f} | {t.get('pdf', 0):.2f} |")

    lines += ["", "Targets:", ""]
    for n in (400, 2000):
        s = by_n.get(n)
        if s and s.cold and s.naive:
            r = s.cold.seconds / s.naive.seconds
            lines.append(f"- full build ≤ {TARGETS['full']}× naive at N = {n:,}: {r:.2f}× — {_ok(r <= TARGETS['full'])}")
        if s and s.cold_apkg and s.naive_apkg:
            r = s.cold_apkg.seconds / s.naive_apkg.seconds
            lines.append(f"- .apkg build ≤ {TARGETS['apkg']}× naive .apkg at N = {n:,}: {r:.2f}× — "
                         f"{_ok(r <= TARGETS['apkg'])}")
    big, mid = by_n.get(BIG), by_n.get(2000)
    if big and mid and big.cold and mid.cold:
        r = big.cold.seconds / mid.cold.seconds
        lines.append(f"- time({BIG:,}) / time(2,000) ≤ {TARGETS['scaling']}: {r:.2f} — {_ok(r <= TARGETS['scaling'])}")
    if big and big.cold:
        mb = max(big.cold.tree_pss_mb, big.cold.max_rss_mb)
        lines.append(f"- peak memory at N = {BIG:,} < {TARGETS['memory_mb']} MB: {mb:.0f} MB — "
                     f"{_ok(mb < TARGETS['memory_mb'])}")
    for s in sizes:
        if s.warm and s.cold:
            r = s.warm.seconds / s.cold.seconds
            lines.append(f"- warm rebuild ≤ {TARGETS['warm']}× cold at N = {s.n:,}: {r:.2f}× — "
                         f"{_ok(r <= TARGETS['warm'])}")
    lines.append(f"- `make deck` with nothing changed < {TARGETS['make']} s: {make_seconds:.3f} s — "
                 f"{_ok(make_seconds < TARGETS['make'])}")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=f"400,2000,{BIG}", help="deck sizes, comma separated")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (best counts)")
    parser.add_argument("--naive-all", action="store_true",
                        help=f"also run the naive baseline and the stage timings at N = {BIG:,}")
    parser.add_argument("--out", type=Path, default=BENCH / "results.md", help="markdown report")
    parser.add_argument("--stages", type=Path, help=argparse.SUPPRESS)  # internal: one stage run
    args = parser.parse_args()
    if args.stages:
        _stages(args.stages)
        return
    started = time.strftime("%Y-%m-%d %H:%M")
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3]) if Path("/proc/loadavg").exists() else "?"
    sizes = []
    for n in (int(x) for x in args.sizes.split(",")):
        repeat = 1 if n >= BIG else args.repeat
        sizes.append(measure(n, repeat, with_naive=n < BIG or args.naive_all))
    make_seconds = make_noop(args.repeat)
    text = report(sizes, make_seconds, args.repeat, started, load)
    args.out.write_text(text, encoding="utf-8")
    print()
    print(text)


if __name__ == "__main__":
    main()
