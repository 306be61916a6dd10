"""The fast path changes no byte: build cache, recorded cards, the PDF worker, reportlab speed-ups.

Every test here compares bytes with a build that takes none of the shortcuts (no cache, one
process), on the example deck and on synthetic decks big enough for the parent process to record
its share of the cards.
"""

from __future__ import annotations

import os
import random
import signal
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline import cache, fork, pdf
from pipeline.build import SPLIT, build
from pipeline.errors import OutputError
from pipeline.load import load
from pipeline.options import BuildOptions, SheetOptions
from pipeline.pdf import replay, speedups

ROOT = Path(__file__).parent.parent
DATA = Path(__file__).parent / "data"
sys.path.insert(0, str(ROOT / "bench"))
from generate import deck_yaml  # noqa: E402 - the benchmark's deck generator

STEMS = {"example": "example-deck", "bench": "bench-deck"}


def _outputs(out: Path, stem: str) -> tuple[bytes, bytes]:
    return (out / f"{stem}.apkg").read_bytes(), (out / f"{stem}.pdf").read_bytes()


@pytest.fixture
def bench_deck(tmp_path: Path) -> Path:
    """A synthetic deck of 240 cards (half with code), with its lock from a first build."""
    source = tmp_path / "bench.yaml"
    source.write_text(deck_yaml(240), encoding="utf-8")
    build(source, BuildOptions(out=tmp_path / "first"))
    return source


def _plain(source: Path, out: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A build with no shortcut: no cache, no worker process, reportlab's own functions."""
    with monkeypatch.context() as m:
        m.setenv(cache.DISABLE_ENV, "1")
        m.setenv(fork.SERIAL_ENV, "1")
        m.setattr(speedups, "ENABLED", False)
        try:
            build(source, BuildOptions(out=out))
        finally:
            speedups.restore()


# -- the cache ----------------------------------------------------------------------------------


def test_cold_warm_and_corrupted_cache_builds_are_identical(example: Path, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    _plain(example, tmp_path / "plain", monkeypatch)
    expected = _outputs(tmp_path / "plain", STEMS["example"])
    out = tmp_path / "out"
    build(example, BuildOptions(out=out))  # cold: writes the cache
    assert _outputs(out, STEMS["example"]) == expected
    files = sorted((out / cache.FOLDER).glob("*.bin"))
    assert {f.name for f in files} >= {"html.bin", "valid.bin", "example-deck.sheet.bin"}
    build(example, BuildOptions(out=out))  # warm: everything from the cache
    assert _outputs(out, STEMS["example"]) == expected
    for damage in (lambda d: d[: len(d) // 2], lambda d: d[:-1] + bytes([d[-1] ^ 1]),
                   lambda d: b"garbage", lambda d: b""):
        for file in files:
            file.write_bytes(damage(file.read_bytes()))
        build(example, BuildOptions(out=out))
        assert _outputs(out, STEMS["example"]) == expected
    assert not list((out / cache.FOLDER).glob(".*partial*"))


def test_warm_build_after_an_edit_is_identical_to_a_cold_one(bench_deck: Path, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    build(bench_deck, BuildOptions(out=out))
    text = bench_deck.read_text(encoding="utf-8")
    # The first card now shows characters no card used before, so every font subset code after
    # it moves: recordings must still replay into the same bytes as a fresh drawing.
    first = text.index("a: |\n") + len("a: |\n")
    end = text.index("\n", first)
    bench_deck.write_text(text[:end] + " Now with ΔΩ → and ≤ ≥ “quotes”." + text[end:], encoding="utf-8")
    build(bench_deck, BuildOptions(out=out))
    _plain(bench_deck, tmp_path / "plain", monkeypatch)
    assert _outputs(out, STEMS["bench"]) == _outputs(tmp_path / "plain", STEMS["bench"])


def test_disabled_cache_writes_nothing(example: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(cache.DISABLE_ENV, "1")
    build(example, BuildOptions(out=tmp_path / "out"))
    assert not (tmp_path / "out" / cache.FOLDER).exists()


def test_store_reads_only_its_own_intact_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "s.bin"
    store = cache.Store(path)
    store.put("a", ("x", 1.5, None, True))
    store.save()
    assert cache.Store(path).get("a") == ("x", 1.5, None, True)
    monkeypatch.setattr(cache, "fingerprint", lambda: "another version of the pipeline")
    assert cache.Store(path).get("a") is None


def test_store_keeps_only_what_the_build_used(tmp_path: Path) -> None:
    path = tmp_path / "s.bin"
    store = cache.Store(path)
    store.put("old", 1)
    store.put("kept", 2)
    store.save()
    again = cache.Store(path)
    assert again.get("kept") == 2
    again.put("new", 3)
    again.save()
    final = cache.Store(path)
    assert (final.get("old"), final.get("kept"), final.get("new")) == (None, 2, 3)


# -- recorded cards -----------------------------------------------------------------------------


def test_text_writer_matches_reportlab() -> None:
    assert replay.emulation_matches()


def test_parent_recordings_replay_into_the_same_sheet(bench_deck: Path, tmp_path: Path) -> None:
    deck = load(bench_deck)
    options = SheetOptions()
    plain, pages = pdf.render(deck, options, None, lambda: 1_700_000_000)
    sent: list[dict[str, replay.Recording]] = []
    helper = pdf.record(deck, options, None, cache.Store(None), (0.5, 1), emit=sent.append)
    for batch in sent:
        helper.update(batch)
    assert len(sent) > 1 and len(helper) == deck.card_count // 2  # every shared card recorded
    replayed = []
    original = replay.replay
    try:
        replay.replay = lambda canv, rec: (replayed.append(rec), original(canv, rec))[1]
        store = cache.Store(None)
        data, again = pdf.render(deck, options, None, lambda: 1_700_000_000, store,
                                 lambda: helper, (0.5, 1))
    finally:
        replay.replay = original
    assert (data, again) == (plain, pages)
    assert len(replayed) == len(helper)
    # And a sheet made entirely of recordings (the store now has them all) is the same too.
    data, _ = pdf.render(deck, options, None, lambda: 1_700_000_000, store)
    assert data == plain


def test_forked_build_with_help_equals_plain_build(bench_deck: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    if not fork.can_fork():
        pytest.skip("this process cannot fork (threads running, or no os.fork)")
    monkeypatch.setattr("pipeline.build.SPLIT", (0.5, 1))
    build(bench_deck, BuildOptions(out=tmp_path / "forked"))
    _plain(bench_deck, tmp_path / "plain", monkeypatch)
    assert _outputs(tmp_path / "forked", STEMS["bench"]) == _outputs(tmp_path / "plain", STEMS["bench"])


# -- the worker process -------------------------------------------------------------------------


def _twice(receive, value: int) -> tuple[int, int, int]:  # noqa: ANN001 - a fork.Job function
    return value * 2, receive(), receive()


def _fails(receive, kind: str) -> None:  # noqa: ANN001
    if kind == "oserror":
        raise OSError(28, "No space left on device")
    if kind == "killed":
        os.kill(os.getpid(), signal.SIGKILL)
    raise ValueError("a bug in the worker")


@pytest.mark.parametrize("serial", [False, True])
def test_job_returns_its_value_and_receives_values_in_order(serial: bool,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(fork.SERIAL_ENV, "1" if serial else "0")
    job = fork.start(_twice, 21)
    job.send("first")
    job.send({"second": list(range(100_000))})  # larger than a pipe's buffer
    assert job.result() == (42, "first", {"second": list(range(100_000))})
    job.cancel()  # harmless after result()


@pytest.mark.parametrize("serial", [False, True])
def test_job_raises_what_the_function_raised(serial: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(fork.SERIAL_ENV, "1" if serial else "0")
    with pytest.raises(ValueError, match="a bug in the worker") as info:
        fork.start(_fails, "bug").result()
    if not serial and fork.can_fork():
        assert any("in the worker process" in note for note in info.value.__notes__)


def test_a_dead_worker_is_a_clean_error() -> None:
    if not fork.can_fork():
        pytest.skip("this process cannot fork")
    with pytest.raises(fork.WorkerError, match="killed by SIGKILL"):
        fork.start(_fails, "killed").result()


@pytest.mark.parametrize("kind", ["oserror", "killed"])
def test_pdf_worker_failure_is_an_output_error(kind: str, example: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    if not fork.can_fork():
        pytest.skip("this process cannot fork")
    monkeypatch.setattr(pdf, "render", lambda *args, **kwargs: _fails(None, kind))
    out = tmp_path / "out"
    with pytest.raises(OutputError, match="No space left|killed by SIGKILL"):
        build(example, BuildOptions(out=out))
    assert not out.exists() or not [p for p in out.iterdir() if p.name != cache.FOLDER]


def test_cancelled_job_leaves_no_process() -> None:
    if not fork.can_fork():
        pytest.skip("this process cannot fork")
    job = fork.start(_twice, 1)  # waits forever for a value
    pid = job.pid  # type: ignore[attr-defined]
    job.cancel()
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


# -- reportlab speed-ups ------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.floats(allow_nan=False, allow_infinity=False, width=64),
                          st.integers(-10**9, 10**9), st.sampled_from([0.0, -0.0, 1e-8, 0.1, 1, 1.0, 0.5])),
                min_size=1, max_size=6))
def test_fp_str_is_reportlabs(values: list[float]) -> None:
    assert speedups.fp_str(*values) == speedups.ORIGINAL["fp_str"](*values)
    assert speedups.fp_str(values) == speedups.ORIGINAL["fp_str"](values)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=0xFF)), st.binary())
def test_escape_pdf_is_reportlabs(text: str, data: bytes) -> None:
    assert speedups.escape_pdf(text) == speedups.ORIGINAL["escapePDF"](text)
    assert speedups.escape_pdf(data) == speedups.ORIGINAL["escapePDF"](data)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64) | st.builds(lambda n, k: b"\0" * n + b"\1" * k, st.integers(0, 9), st.integers(0, 5)))
def test_ascii85_is_reportlabs(data: bytes) -> None:
    assert speedups.ascii_base85(data) == speedups.ORIGINAL["asciiBase85Encode"](data)


def test_string_width_is_reportlabs() -> None:
    from reportlab.pdfbase import pdfmetrics

    from pipeline import fonts

    fonts.register()
    rng = random.Random(7)
    for name in (fonts.SANS, fonts.MONO + "-Bold"):
        font = pdfmetrics.getFont(name)
        for _ in range(300):
            text = "".join(chr(rng.choice([rng.randrange(32, 127), rng.randrange(160, 0x2200)]))
                           for _ in range(rng.randrange(0, 12)))
            size = rng.choice([6.6, 7.2, 7.5, 10, 15])
            assert speedups.string_width_ttf(font, text, size) == speedups.ORIGINAL[
                "instanceStringWidthTTF"](font, text, size)


def test_example_deck_bytes_do_not_depend_on_the_shortcuts(example: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    _plain(example, tmp_path / "plain", monkeypatch)
    build(example, BuildOptions(out=tmp_path / "fast"))
    assert _outputs(tmp_path / "fast", STEMS["example"]) == _outputs(tmp_path / "plain", STEMS["example"])
