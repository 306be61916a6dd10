"""Crash safety: a real ``deck build`` process SIGKILLed at many moments never damages anything.

One generated 1,200-card deck is built (release 1), its source edited (release 2), and then the
release-2 build is run as a subprocess and killed at fixed delays and at the moments its staged
files appear and get published. After every kill each public file (the two outputs and the lock
beside the source) must be byte-identical either to release 1 or to the complete release-2 file;
the only other files allowed are hidden ``.<name>.partial-*`` leftovers. A final build must then
succeed, sweep every leftover (beside the outputs *and* beside the source) and produce exactly the
bytes an uninterrupted build produces (builds are reproducible).
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from deckgen import big_deck, write_deck
from pipeline.build import build
from pipeline.cache import FOLDER as CACHE_FOLDER
from pipeline.options import BuildOptions

ROOT = Path(__file__).parent.parent
CARDS = 1200
RELEASE_1, RELEASE_2 = 1_800_000_000, 1_900_000_000
PARTIAL = ".partial-"

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")


class Scene:
    """A source folder and an output folder with a release-1 build in them."""

    def __init__(self, root: Path) -> None:
        self.src_dir = root / "src"
        self.out = root / "out"
        self.tmp = root / "system-tmp"  # TMPDIR of the build processes, to see what they leave there
        for folder in (self.src_dir, self.out, self.tmp):
            folder.mkdir(parents=True)
        self.source = self.src_dir / "big.yaml"
        self.lock = self.src_dir / "big.lock.json"
        self.apkg = self.out / "big-deck.apkg"
        self.pdf = self.out / "big-deck.pdf"
        self.public = (self.lock, self.apkg, self.pdf)
        self.old_leftovers: set[Path] = set()
        self.first_seen: dict[str, float] = {}
        """When the running build's staged files first appeared (seconds after its start)."""

    def snapshot(self) -> dict[Path, bytes]:
        return {path: path.read_bytes() for path in self.public}

    def restore(self, files: dict[Path, bytes]) -> None:
        for path, data in files.items():
            path.write_bytes(data)

    def start_build(self) -> subprocess.Popen[bytes]:
        self.old_leftovers = set(self.hidden())
        self.first_seen: dict[str, float] = {}
        env = {**os.environ, "SOURCE_DATE_EPOCH": str(RELEASE_2), "TMPDIR": str(self.tmp),
               "PYTHONPATH": str(ROOT)}
        return subprocess.Popen([sys.executable, "-m", "pipeline", "build", str(self.source), "--out",
                                 str(self.out), "--quiet"], cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def staged(self, final: Path) -> list[Path]:
        """Files the running build staged for ``final`` (not leftovers of earlier kills)."""
        return sorted(set(final.parent.glob(f".{final.name}{PARTIAL}*")) - self.old_leftovers)

    def hidden(self) -> list[Path]:
        # The build cache folder (build/.cache) is meant to stay; its files are replaced atomically.
        return sorted(p for folder in (self.src_dir, self.out) for p in folder.iterdir()
                      if p.name.startswith(".") and p.name != CACHE_FOLDER)

    def survivors(self) -> list[int]:
        """Processes still running this scene's build (a forked worker the kill left behind)."""
        found = []
        for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
            try:
                if str(self.source).encode() in cmdline.read_bytes():
                    found.append(int(cmdline.parent.name))
            except OSError:
                pass
        return found


def _after(seconds: float) -> Callable[[Scene, float], bool]:
    return lambda scene, elapsed: elapsed >= seconds


def _staged(which: str, *, then: float = 0.0) -> Callable[[Scene, float], bool]:
    def trigger(scene: Scene, elapsed: float) -> bool:
        final = {"lock": scene.lock, "apkg": scene.apkg, "pdf": scene.pdf}[which]
        if scene.staged(final):
            scene.first_seen.setdefault(which, elapsed)
        return which in scene.first_seen and elapsed >= scene.first_seen[which] + then

    return trigger


def _publishing(scene: Scene, elapsed: float) -> bool:
    # The lock is published first: once a staged pdf exists and the staged lock is gone,
    # the build is between its renames (or just past them).
    return bool(scene.staged(scene.pdf)) and not scene.staged(scene.lock)


MOMENTS: list[tuple[str, Callable[[Scene, float], bool]]] = [
    ("after 0.1 s", _after(0.1)),
    ("after 0.6 s", _after(0.6)),
    ("lock staged", _staged("lock")),
    ("apkg staged", _staged("apkg", then=0.15)),
    ("pdf being laid out", _staged("pdf", then=0.6)),
    ("publishing", _publishing),
]


def _kill_at(scene: Scene, trigger: Callable[[Scene, float], bool], limit: float = 30.0) -> tuple[int, float]:
    process = scene.start_build()
    started = time.monotonic()
    try:
        while process.poll() is None:
            elapsed = time.monotonic() - started
            if trigger(scene, elapsed) or elapsed > limit:
                process.send_signal(signal.SIGKILL)
                break
            time.sleep(0.002)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    process.stderr.close()
    return process.returncode, time.monotonic() - started


def _assert_valid_outputs(scene: Scene, files: dict[Path, bytes]) -> None:
    """The files are complete outputs: a zip with a readable collection, JSON, a whole PDF."""
    with zipfile.ZipFile(scene.apkg) as package:
        assert set(package.namelist()) == {"collection.anki2", "media"}
        assert package.testzip() is None
        with tempfile.TemporaryDirectory() as tmp:
            db = Path(tmp) / "c.anki2"
            db.write_bytes(package.read("collection.anki2"))
            connection = sqlite3.connect(db)
            try:
                assert connection.execute("select count(*) from notes").fetchone()[0] == CARDS
            finally:
                connection.close()
    lock = json.loads(files[scene.lock])
    assert len(lock["cards"]) == CARDS
    assert files[scene.pdf].startswith(b"%PDF-") and files[scene.pdf].rstrip().endswith(b"%%EOF")


def test_sigkill_at_any_moment_keeps_outputs_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scene = Scene(tmp_path)
    write_deck(scene.source, big_deck(CARDS, edition=1))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(RELEASE_1))
    build(scene.source, BuildOptions(out=scene.out))
    release_1 = scene.snapshot()
    _assert_valid_outputs(scene, release_1)
    write_deck(scene.source, big_deck(CARDS, edition=2))
    # What an uninterrupted, cold (no cache) release-2 build writes, in a folder of its own.
    reference = Scene(tmp_path / "reference")
    reference.source.write_bytes(scene.source.read_bytes())
    reference.lock.write_bytes(release_1[scene.lock])
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(RELEASE_2))
    monkeypatch.setenv("DECK_NO_CACHE", "1")
    build(reference.source, BuildOptions(out=reference.out))
    monkeypatch.delenv("DECK_NO_CACHE")
    release_2 = {path: ref.read_bytes() for path, ref in zip(scene.public, reference.public, strict=True)}

    new_versions: dict[Path, set[bytes]] = {path: set() for path in scene.public}
    log = []
    for label, trigger in MOMENTS:
        scene.restore(release_1)  # every kill starts from release 1; leftovers of earlier kills stay
        returncode, elapsed = _kill_at(scene, trigger)
        published = []
        for path in scene.public:
            data = path.read_bytes()
            if data != release_1[path]:
                new_versions[path].add(data)
                published.append(path.name)
        # Nothing else appears where a user or make looks: only hidden, recognisable leftovers.
        assert sorted(p.name for p in scene.src_dir.iterdir() if not p.name.startswith(".")) == [
            "big.lock.json", "big.yaml"], label
        assert sorted(p.name for p in scene.out.iterdir() if not p.name.startswith(".")) == [
            "big-deck.apkg", "big-deck.pdf"], label
        for leftover in scene.hidden():
            assert any(leftover.name.startswith(f".{p.name}{PARTIAL}") for p in scene.public), leftover
        for entry in (scene.out / CACHE_FOLDER).glob("*"):  # the build cache: whole files or hidden partials
            assert entry.suffix == ".bin" or (entry.name.startswith(".") and PARTIAL in entry.name), entry
        if Path("/proc/self/cmdline").exists():
            deadline = time.monotonic() + 2
            while scene.survivors() and time.monotonic() < deadline:
                time.sleep(0.05)
            assert scene.survivors() == [], f"{label}: a process of the killed build is still running"
        log.append(f"{label:>20}: rc={returncode:>3} after {elapsed:4.2f} s, published {published or 'nothing'}, "
                   f"{len(scene.hidden())} hidden leftovers, {len(list(scene.tmp.iterdir()))} in TMPDIR")
    print("\n".join(["", *log]))
    killed = sum(1 for line in log if "rc= -9" in line)
    assert killed >= len(MOMENTS) - 2, log  # the triggers fire well before the build ends

    # The next build succeeds, sweeps every leftover and writes what an uninterrupted build writes.
    process = scene.start_build()
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr.decode()
    assert b"Traceback" not in stderr
    assert scene.hidden() == [], "leftovers of killed builds were not swept"
    final = scene.snapshot()
    _assert_valid_outputs(scene, final)
    for path in scene.public:
        assert final[path] != release_1[path], f"{path.name} was not updated"
        # Exactly what an uninterrupted cold build writes, and whatever a killed build managed
        # to publish was already that complete file.
        assert final[path] == release_2[path], f"{path.name} differs from an uninterrupted build"
        assert new_versions[path] <= {final[path]}, f"a killed build published a different {path.name}"
    lock = json.loads(final[scene.lock])
    assert {entry["modified"] for entry in lock["cards"].values()} == {RELEASE_2}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses RLIMIT_FSIZE to fill the 'disk'")
@pytest.mark.parametrize("fails", ["lock", "apkg", "pdf"])
def test_full_disk_is_a_clean_error(fails: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A write that fails (disk full, file too large) is exit 3 and a message; nothing changes."""
    import resource

    scene = Scene(tmp_path)
    write_deck(scene.source, big_deck(120, edition=1))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(RELEASE_1))
    build(scene.source, BuildOptions(out=scene.out))
    before = scene.snapshot()
    write_deck(scene.source, big_deck(120, edition=2))
    # The lock fits under the limit unless it is the file that must fail; the others never fit.
    limit = 1000 if fails == "lock" else len(before[scene.lock]) + 1000
    assert all(len(data) > limit for path, data in before.items() if path != scene.lock)
    formats = ["--format", "pdf"] if fails == "pdf" else []

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    env = {**os.environ, "SOURCE_DATE_EPOCH": str(RELEASE_2), "TMPDIR": str(scene.tmp), "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-m", "pipeline", "build", str(scene.source), "--out", str(scene.out),
                             *formats], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
                            preexec_fn=small_files)
    assert result.returncode == 3, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: cannot write the outputs: "), result.stderr
    assert scene.snapshot() == before
    assert scene.hidden() == []
    assert list(scene.tmp.iterdir()) == []
