"""Safety: a deck source is data. Loading and building it never executes it, never follows it
outside the source and output folders, and never turns it into script or remote content."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest
import yaml

from pipeline import markup
from pipeline.build import build
from pipeline.errors import DeckError, SourceError
from pipeline.load import load
from pipeline.lock import lock_path
from pipeline.options import BuildOptions
from pipeline.select import Selection

ROOT = Path(__file__).parent.parent
PIPELINE = ROOT / "pipeline"


def _deck(card: dict | None = None, **deck: object) -> dict:
    card = card or {"id": "only-card", "q": "What is it?", "a": "It is this."}
    return {"deck": {"id": "safe-deck", "title": "Safe Deck", **deck},
            "topics": [{"id": "topic", "title": "Topic", "sections": [{"id": "section", "title": "Section",
                                                                        "cards": [card]}]}]}


def _write(path: Path, data: dict | str) -> Path:
    text = data if isinstance(data, str) else yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    path.write_text(text, encoding="utf-8")
    return path


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


# -- the loader is a safe loader ------------------------------------------------------------------

PAYLOAD_TAGS = [
    ("value", "q: !!python/object/apply:os.system ['touch {marker}']"),
    ("mapping", "q: !!python/object/apply:os.system {{args: ['touch {marker}']}}"),
    ("key", "? !!python/object/apply:os.system ['touch {marker}']\n            : x"),
    ("scalar key", "!!python/object/apply:os.system 'touch': x"),
    ("name", "q: !!python/name:os.system"),
    ("object", "q: !!python/object:pathlib.Path {{}}"),
    ("module", "q: !!python/module:os"),
    ("local tag", "q: !include /etc/passwd"),
]


@pytest.mark.parametrize("where,line", PAYLOAD_TAGS, ids=[w for w, _ in PAYLOAD_TAGS])
def test_python_tags_are_refused_with_their_line_and_never_run(where: str, line: str, tmp_path: Path) -> None:
    marker = tmp_path / "executed"
    text = textwrap.dedent(f"""\
        deck:
          id: safe-deck
          title: Safe Deck
        topics:
          - id: topic
            title: Topic
            sections:
              - id: section
                title: Section
                cards:
                  - id: only-card
                    a: It is this.
        """) + "            " + line.format(marker=marker) + "\n"
    source = _write(tmp_path / "tags.yaml", text)
    with pytest.raises(SourceError) as info:
        build(source, BuildOptions(out=tmp_path / "out"))
    problems = info.value.problems
    # A tagged scalar or collection is refused for its tag; a list as a key is refused for being one.
    assert any(("YAML tag" in p.message or "keys must be plain words" in p.message) and p.line == 13
               for p in problems), problems
    assert not marker.exists()
    assert not (tmp_path / "out").exists()


def test_the_pipeline_uses_only_safe_yaml_loaders() -> None:
    """No module can construct arbitrary objects: no yaml.load/full_load/unsafe_load, no unsafe Loader."""
    unsafe = {"load", "load_all", "full_load", "full_load_all", "unsafe_load", "unsafe_load_all",
              "Loader", "FullLoader", "UnsafeLoader", "CLoader", "CFullLoader", "CUnsafeLoader"}
    found = []
    for path in sorted(PIPELINE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "yaml" \
                    and node.attr in unsafe:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: yaml.{node.attr}")
            if isinstance(node, ast.ImportFrom) and node.module == "yaml" and {a.name for a in node.names} & unsafe:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: from yaml import ...")
    assert found == []


# -- building never runs the code in the answers --------------------------------------------------

def test_build_never_executes_code_from_the_source(tmp_path: Path) -> None:
    ran_src, ran_check = tmp_path / "src-ran", tmp_path / "check-ran"
    src = f"from pathlib import Path\n\nPath({str(ran_src)!r}).write_text('ran')\n"
    check = f"from pathlib import Path\n\nPath({str(ran_check)!r}).write_text('ran')\n"
    card = {"id": "writes-a-file", "q": "What does this code do?", "a": "It writes a file when run.",
            "code": [{"lang": "python", "src": src, "check": check},
                     {"lang": "bash", "src": f"touch {tmp_path / 'bash-ran'}\n"}]}
    source = _write(tmp_path / "code.yaml", _deck(card))
    for command in (["build", str(source), "--out", str(tmp_path / "out")], ["check", str(source)],
                    ["stats", str(source)]):
        result = subprocess.run([sys.executable, "-m", "pipeline", *command], cwd=tmp_path, capture_output=True,
                                text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
        assert result.returncode == 0, result.stderr
    assert {p.name for p in tmp_path.iterdir()} == {"code.yaml", "code.lock.json", "out"}
    # The payload is live: running it is exactly what would have created the files.
    exec(compile(src, "src", "exec"), {})  # noqa: S102
    assert ran_src.read_text() == "ran"


# -- links ----------------------------------------------------------------------------------------

REFUSED_LINKS = [
    "[x](javascript:alert(1))", "[x](JavaScript:alert(1))", "[x](  javascript:alert(1))",
    "[x](java&#115;cript:alert(1))", "[x](<javascript:alert(1)>)", "<javascript:alert(1)>",
    "[x](data:text/html;base64,PHNjcmlwdD4=)", "[x](vbscript:msgbox(1))", "[x](file:///etc/passwd)",
    "[x](../secret.txt)", "[x](/etc/passwd)", "[x](//evil.example/x)", "[x](ftp://example.com/x)",
    "[x](#anchor)", "[x][ref]\n\n[ref]: javascript:alert(1)", "[x](%6Aavascript:alert(1))",
]


@pytest.mark.parametrize("link", REFUSED_LINKS)
@pytest.mark.parametrize("key", ["a", "more"])
def test_links_other_than_http_and_mailto_are_refused(link: str, key: str, tmp_path: Path) -> None:
    card = {"id": "linky", "q": "Where does it point?", "a": "Somewhere.", key: f"See {link}\n"}
    text = yaml.safe_dump(_deck(card), sort_keys=False)
    source = _write(tmp_path / "links.yaml", text)
    with pytest.raises(SourceError) as info:
        load(source)
    key_line = _line_of(text, f"{key}:")
    assert {p.line for p in info.value.problems} <= {key_line, key_line + 1}, info.value
    assert all("link target" in p.message and p.card == "linky" for p in info.value.problems)
    # The renderer's second lock: even if validation missed it, such a link gets no href.
    assert "href=" not in markup.to_html(f"See {link}\n")


@pytest.mark.parametrize("link,href", [
    ("[docs](https://fastapi.tiangolo.com/)", "https://fastapi.tiangolo.com/"),
    ("[site](http://example.com/a?b=1&c=2)", "http://example.com/a?b=1&amp;c=2"),
    ("[mail](mailto:someone@example.com)", "mailto:someone@example.com"),
    ("<https://example.com/auto>", "https://example.com/auto"),
])
def test_http_and_mailto_links_are_kept(link: str, href: str, tmp_path: Path) -> None:
    card = {"id": "linky", "q": "Where does it point?", "a": f"See {link}."}
    source = _write(tmp_path / "links.yaml", _deck(card))
    build(source, BuildOptions(out=tmp_path / "out", formats=("apkg",)))
    with zipfile.ZipFile(tmp_path / "out" / "safe-deck.apkg") as package:
        collection = package.read("collection.anki2")
    assert f'href="{href}"'.encode() in collection


# -- paths ----------------------------------------------------------------------------------------

HOSTILE_IDS = ["../evil", "..", "/tmp/evil", "a/b", "a\\b", "evil.apkg", ".hidden", "Evil", "évil", "a b", "",
               "a--b", "-a", "a-", "~", "$HOME", "%2e%2e"]


@pytest.mark.parametrize("value", HOSTILE_IDS)
@pytest.mark.parametrize("which", ["deck", "topic", "section", "card", "retired"])
def test_ids_that_could_become_paths_are_refused(value: str, which: str, tmp_path: Path) -> None:
    data = _deck()
    target = {"deck": data["deck"], "topic": data["topics"][0], "section": data["topics"][0]["sections"][0],
              "card": data["topics"][0]["sections"][0]["cards"][0]}
    if which == "retired":
        data["retired"] = [value]
    else:
        target[which]["id"] = value
    root = tmp_path / "root"
    (root / "src").mkdir(parents=True)
    text = yaml.safe_dump(data, sort_keys=False)
    source = _write(root / "src" / "ids.yaml", text)
    before = _tree(tmp_path)
    with pytest.raises(SourceError) as info:
        build(source, BuildOptions(out=root / "out"))
    assert all(p.line for p in info.value.problems), info.value
    assert _tree(tmp_path) == before


def test_only_the_outputs_and_the_lock_are_written_whatever_the_titles_say(tmp_path: Path) -> None:
    """Titles, descriptions, sources and code may mention paths; outputs are named by the deck id only."""
    root = tmp_path / "root"
    (root / "src").mkdir(parents=True)
    (root / "secret.txt").write_text("secret")
    card = {"id": "paths", "q": "What about `../secret.txt` and `/etc/passwd`?",
            "a": "Nothing: `[sound:../secret.txt]` and `../../out.apkg` are text.",
            "code": {"lang": "python", "run": False, "src": "open('../secret.txt').read()\n"},
            "sources": ["../secret.txt", "/etc/passwd"], "more": "See `file:///etc/passwd`."}
    data = _deck(card, title="../../Evil Title/..", description="Written to `../../evil.apkg`?")
    data["topics"][0]["title"] = "/etc"
    data["topics"][0]["sections"][0]["title"] = "../.."
    source = _write(root / "src" / "deck.yaml", data)
    before = _tree(tmp_path)
    build(source, BuildOptions(out=root / "out"))
    after = _tree(tmp_path)
    changed = {name for name in after if before.get(name) != after[name]}
    cache = {name for name in changed if name.startswith("root/out/.cache/")}  # the build's own cache
    assert changed - cache == {"root/out/safe-deck.apkg", "root/out/safe-deck.pdf", "root/src/deck.lock.json"}
    assert set(before) <= set(after)
    with zipfile.ZipFile(root / "out" / "safe-deck.apkg") as package:  # nothing for Anki to unpack elsewhere
        assert package.namelist() == ["collection.anki2", "media"]
        assert json.loads(package.read("media")) == {}


def test_the_lock_lives_beside_the_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    source = _write(tmp_path / "a" / "b" / "my deck.yaml", _deck())
    monkeypatch.chdir(tmp_path / "a")
    relative = Path("..") / "a" / "b" / "my deck.yaml"
    assert lock_path(relative).resolve() == tmp_path / "a" / "b" / "my deck.lock.json"
    build(relative, BuildOptions(out=Path("out"), formats=("apkg",)))
    assert (tmp_path / "a" / "b" / "my deck.lock.json").is_file()
    assert sorted(p.name for p in source.parent.iterdir()) == ["my deck.lock.json", "my deck.yaml"]


@pytest.mark.parametrize("selection", [Selection(topics=("../evil",)), Selection(tags=("../../x",)),
                                       Selection(levels=("/etc",))])
def test_selections_cannot_name_paths(selection: Selection, tmp_path: Path) -> None:
    """The output name's suffix comes from --topic/--tag/--level: only known slugs are accepted."""
    source = _write(tmp_path / "deck.yaml", _deck())
    with pytest.raises(DeckError, match="unknown"):
        build(source, BuildOptions(out=tmp_path / "out", selection=selection))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deck.yaml"]


AUDIT = r'''
import json, os, sys
from pathlib import Path
events = []
WATCH = {"open", "os.rename", "os.remove", "os.rmdir", "os.mkdir", "os.chmod", "os.truncate", "os.link",
         "os.symlink", "os.utime", "shutil.rmtree", "shutil.move", "shutil.copyfile", "sqlite3.connect",
         "os.listdir", "os.scandir"}
def hook(event, args):
    if event in ("os.remove", "os.rmdir", "os.mkdir", "os.chmod") and args[-1] not in (None, -1):
        return  # relative to a directory descriptor (shutil.rmtree's walk): its shutil.rmtree event says where
    if event in WATCH and args and isinstance(args[0], (str, bytes, os.PathLike)):
        path = os.fsdecode(args[0])
        mode = args[1] if event == "open" and len(args) > 1 else None
        flags = args[2] if event == "open" and len(args) > 2 else 0
        events.append((event, os.path.abspath(path), mode if isinstance(mode, str) else None,
                       flags if isinstance(flags, int) else 0))
        if event == "os.rename" and len(args) > 1:
            events.append(("os.rename-to", os.path.abspath(os.fsdecode(args[1])), None, 0))
from pipeline.build import build
from pipeline.options import BuildOptions
sys.addaudithook(hook)
build(Path(sys.argv[1]), BuildOptions(out=Path(sys.argv[2])))
Path(sys.argv[3]).write_text(json.dumps(events))
'''


def test_build_touches_nothing_the_source_points_at(tmp_path: Path) -> None:
    """Audit hooks see every file the build opens, lists, renames or deletes."""
    root = tmp_path / "root"
    (root / "src").mkdir(parents=True)
    system_tmp = tmp_path / "system-tmp"
    system_tmp.mkdir()
    (root / "secret.txt").write_text("secret")
    card = {"id": "paths", "q": "What about `../secret.txt`?", "a": "See `../secret.txt` and `/etc/passwd`.",
            "code": [{"lang": "python", "run": False, "src": "open('../secret.txt').read()\n"},
                     {"lang": "bash", "src": "cat ../secret.txt /etc/passwd\n"}],
            "sources": ["../secret.txt"]}
    data = _deck(card, title="../secret.txt", description="[link](https://example.com/../secret.txt)")
    source = _write(root / "src" / "deck.yaml", data)
    (tmp_path / "audit.py").write_text(AUDIT)
    log = tmp_path / "events.json"
    result = subprocess.run([sys.executable, str(tmp_path / "audit.py"), str(source), str(root / "out"), str(log)],
                            cwd=root / "src", capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(system_tmp),
                                 "PYTHONDONTWRITEBYTECODE": "1"})
    assert result.returncode == 0, result.stderr
    events = json.loads(log.read_text())
    assert events, "the audit hook saw nothing"
    assert not [e for e in events if "secret" in e[1] or e[1].startswith("/etc/passwd")]
    writable = (str(root / "out"), str(system_tmp), str(source.parent / "deck.lock.json"),
                str(source.parent / ".deck.lock.json.partial-"))
    writes = [e for e in events if e[0] not in ("open", "os.listdir", "os.scandir")
              or (e[2] and set(e[2]) & set("wax+")) or (e[3] & (os.O_WRONLY | os.O_RDWR | os.O_CREAT))]
    assert writes, "the audit hook saw no write"
    assert [e for e in writes if not e[1].startswith(writable)] == []
    # Inside the source folder the build reads the source and its lock, nothing else.
    in_source = {Path(e[1]).name for e in events if Path(e[1]).parent == source.parent}
    staged = {n for n in in_source if n.startswith(".deck.lock.json.partial-")}
    assert in_source <= {"deck.yaml", "deck.lock.json"} | staged


# -- a user's collection across releases (identity guard, end to end in Anki) ---------------------

def _release(source: Path, out: Path, when: int) -> tuple[Path, list[str]]:
    from click.testing import CliRunner

    from pipeline.cli import main

    result = CliRunner().invoke(main, ["build", str(source), "--out", str(out), "--format", "apkg"],
                                env={"SOURCE_DATE_EPOCH": str(when)})
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.output.splitlines() if line.startswith("warning: ")]
    return out / "example-deck.apkg", warnings


def _study(col, count: int) -> dict[int, int]:  # type: ignore[no-untyped-def]
    col.decks.select(col.decks.id_for_name("Example Deck"))
    for _ in range(count):
        col.sched.answerCard(col.sched.getCard(), 3)
    return {cid: col.get_card(cid).reps for cid in col.find_cards("")}


def _where(col) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {col.get_card(cid).note()["CardId"]: col.decks.name(col.get_card(cid).did) for cid in col.find_cards("")}


def test_reordering_cards_sections_and_topics_changes_nothing_for_users(example: Path, tmp_path: Path) -> None:
    from anki.collection import Collection

    from anki_helpers import import_package

    first, warnings = _release(example, tmp_path / "r1", 1_900_000_000)
    assert warnings == []
    col = Collection(str(tmp_path / "user.anki2"))
    try:
        import_package(col, first)
        history, places = _study(col, 3), _where(col)
        lock_before = lock_path(example).read_bytes()
        data = yaml.safe_load(example.read_text(encoding="utf-8"))
        data["topics"].reverse()
        for topic in data["topics"]:
            topic["sections"].reverse()
            for section in topic["sections"]:
                section["cards"].reverse()
        _write(example, data)
        second, warnings = _release(example, tmp_path / "r2", 1_950_000_000)
        assert warnings == []
        assert lock_path(example).read_bytes() == lock_before
        log = import_package(col, second)
        assert (len(log.new), len(log.updated)) == (0, 0)
        assert {cid: col.get_card(cid).reps for cid in col.find_cards("")} == history
        assert _where(col) == places
    finally:
        col.close()
    # A new user gets the new order.
    fresh = Collection(str(tmp_path / "new-user.anki2"))
    try:
        import_package(fresh, second)
        cards = sorted((fresh.get_card(cid) for cid in fresh.find_cards("")), key=lambda c: c.due)
        order = [c["id"] for t in data["topics"] for s in t["sections"] for c in s["cards"]]
        assert [c.note()["CardId"] for c in cards] == order
    finally:
        fresh.close()


def test_renaming_a_topic_warns_and_the_warning_is_what_anki_does(example: Path, tmp_path: Path) -> None:
    from anki.collection import Collection

    from anki_helpers import import_package

    first, _ = _release(example, tmp_path / "r1", 1_900_000_000)
    col = Collection(str(tmp_path / "user.anki2"))
    try:
        import_package(col, first)
        history, places = _study(col, 2), _where(col)
        text = example.read_text(encoding="utf-8")
        assert text.count("    title: Basics\n") == 1
        example.write_text(text.replace("    title: Basics\n", "    title: Basics and Setup\n"), encoding="utf-8")
        second, warnings = _release(example, tmp_path / "r2", 1_950_000_000)
        moved = {cid for cid, deck in places.items() if deck.startswith("Example Deck::Basics::")}
        assert len(warnings) == len(moved) == 4, warnings
        for card_id in moved:
            old = places[card_id].split("::", 1)[1]
            new = old.replace("Basics::", "Basics and Setup::")
            assert any(f"card '{card_id}': moved from '{old}' to '{new}': new users get it in the new place, but "
                       "Anki never moves an existing user's card to another deck on import" in w for w in warnings)
        # What the warning says: existing cards keep their deck (and history); their content is updated.
        log = import_package(col, second)
        assert len(log.new) == 0 and len(log.updated) == len(moved)
        assert _where(col) == places
        assert {cid: col.get_card(cid).reps for cid in col.find_cards("")} == history
        for cid in col.find_cards(""):
            note = col.get_card(cid).note()
            assert note["Topic"] == ("Basics and Setup" if note["CardId"] in moved else "Advanced Topics")
        # The warning is given once, at the release that renames.
        assert _release(example, tmp_path / "r3", 1_960_000_000)[1] == []
    finally:
        col.close()
    fresh = Collection(str(tmp_path / "new-user.anki2"))
    try:
        import_package(fresh, second)
        assert {d for cid, d in _where(fresh).items() if cid in moved} == {
            "Example Deck::Basics and Setup::First Steps", "Example Deck::Basics and Setup::Shell & Config"}
    finally:
        fresh.close()
