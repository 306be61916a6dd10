"""``deck``: a thin command-line shell over the library; it turns library errors into messages.

Exit codes: 0 success; 1 the source (or the lock) has problems, or a verification failed;
2 usage error (click); 3 an output could not be written.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from . import __version__
from .errors import DeckError, OutputError, SourceError
from .options import FORMATS, BuildOptions, SheetOptions
from .select import Selection

DEFAULT_SOURCE = Path("source/fastapi.yaml")
EXIT_SOURCE, EXIT_OUTPUT = 1, 3


def _fail(error: DeckError) -> None:
    """Print a library error the way a user should see it, and exit with its code."""
    if isinstance(error, SourceError):
        for problem in error.problems:
            click.echo(f"error: {problem}", err=True)
        count = len(error.problems)
        click.echo(f"{count} problem{'s' if count != 1 else ''}; nothing was written.", err=True)
        sys.exit(EXIT_SOURCE)
    click.echo(f"error: {error}", err=True)
    sys.exit(EXIT_OUTPUT if isinstance(error, OutputError) else EXIT_SOURCE)


def _size(path: Path) -> str:
    size = path.stat().st_size
    return f"{size / 1024:.0f} KiB" if size < 1024 * 1024 else f"{size / 1024 / 1024:.1f} MiB"


source_argument = click.argument("source", type=click.Path(path_type=Path), default=DEFAULT_SOURCE, required=False)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="deck")
def main() -> None:
    """Compile a YAML question deck into an Anki package and a printable PDF cheat-sheet."""


@main.command()
@source_argument
@click.option("--out", "out", type=click.Path(path_type=Path), default=Path("build"), show_default=True,
              help="Output folder.")
@click.option("--format", "formats", type=click.Choice(FORMATS), multiple=True,
              help="Write only this output (repeatable). Default: all.")
@click.option("--topic", "topics", multiple=True, help="Only cards of this topic id (repeatable).")
@click.option("--tag", "tags", multiple=True, help="Only cards with this tag (repeatable).")
@click.option("--level", "levels", multiple=True, help="Only cards of this level (repeatable).")
@click.option("--paper", type=click.Choice(["a4", "letter"]), default="a4", show_default=True, help="PDF paper size.")
@click.option("--columns", type=click.IntRange(1, 6), default=3, show_default=True, help="PDF columns per page.")
@click.option("--portrait", is_flag=True, help="Portrait PDF pages (default: landscape).")
@click.option("--full", is_flag=True, help="Also print each card's 'more' part on the sheet.")
@click.option("--grayscale", is_flag=True, help="Print-safe PDF code style without colour.")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors.")
def build(source: Path, out: Path, formats: tuple[str, ...], topics: tuple[str, ...], tags: tuple[str, ...],
          levels: tuple[str, ...], paper: str, columns: int, portrait: bool, full: bool, grayscale: bool,
          quiet: bool) -> None:
    """Validate SOURCE and write OUT/<deck id>.apkg and OUT/<deck id>.pdf (updates the lock file)."""
    from .build import build as run_build

    options = BuildOptions(
        out=out, formats=formats or FORMATS,
        sheet=SheetOptions(paper=paper, columns=columns, portrait=portrait, full=full, grayscale=grayscale),
        selection=Selection(topics=topics, tags=tags, levels=levels),
    )
    try:
        result = run_build(source, options)
    except DeckError as error:
        _fail(error)
        return
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    if quiet:
        return
    click.echo(f"{result.deck.title}: {result.cards} cards in {result.decks} decks")
    for path in result.outputs:
        pages = f", {result.pages} pages" if path.suffix == ".pdf" and result.pages else ""
        click.echo(f"  wrote {path} ({_size(path)}{pages})")
    if result.lock_updated:
        click.echo("  updated the lock file (commit it with the source)")
    click.echo(f"  in {result.seconds:.2f} s")


@main.command()
@source_argument
def check(source: Path) -> None:
    """Validate SOURCE and fail if its lock file is out of date (for CI). Writes nothing."""
    from .build import check as run_check

    try:
        outcome = run_check(source)
    except DeckError as error:
        _fail(error)
        return
    for warning in outcome.warnings:
        click.echo(f"warning: {warning}", err=True)
    if outcome.stale:
        changed = ", ".join(outcome.changed[:5]) + (" ..." if len(outcome.changed) > 5 else "")
        detail = f" (changed: {changed})" if changed else ""
        click.echo(f"error: {source}: the lock file is out of date{detail}; run 'deck build' and commit the lock",
                   err=True)
        sys.exit(EXIT_SOURCE)
    click.echo(f"{source}: ok, {outcome.lock.deck}: {len(outcome.lock.cards)} cards, lock up to date")


@main.command()
@source_argument
def stats(source: Path) -> None:
    """Count cards per topic, section and level, and code blocks per language."""
    from .load import load
    from .stats import report

    try:
        deck = load(source)
    except DeckError as error:
        _fail(error)
        return
    click.echo(report(deck))



@main.command()
@source_argument
@click.option("--timeout", default=30, show_default=True, help="Seconds each block may run.")
@click.option("--workers", type=int, default=None, help="Parallel workers (default: one per core).")
@click.option("--card", "cards", multiple=True, help="Only this card id (repeatable).")
@click.option("--quiet", "-q", is_flag=True, help="Print only failures and warnings.")
def verify(source: Path, timeout: int, workers: int | None, cards: tuple[str, ...], quiet: bool) -> None:
    """Run every Python code answer with its check; lex/parse the other blocks; flag wide lines."""
    from .load import load
    from .verify import verify as run_verify

    try:
        deck = load(source)
    except DeckError as error:
        _fail(error)
        return
    report = run_verify(deck, timeout=timeout, workers=workers, only=set(cards) or None)
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    for failure in report.failures:
        click.echo(f"error: {failure}", err=True)
    if not quiet or report.failures:
        share = 100 * report.executed / report.python_blocks if report.python_blocks else 100
        click.echo(f"{source}: {report.python_blocks} Python blocks, {report.executed} executed ({share:.0f}%), "
                   f"{report.other_blocks} other blocks checked; {len(report.failures)} failed, "
                   f"{len(report.warnings)} warnings, {report.seconds:.1f} s")
    if report.failures:
        sys.exit(EXIT_SOURCE)


@main.command()
@source_argument
@click.option("--out", "out", type=click.Path(path_type=Path), default=Path("build"), show_default=True,
              help="Output folder.")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors.")
def preview(source: Path, out: Path, quiet: bool) -> None:
    """Validate SOURCE and write OUT/<deck id>.html: every card's front and back as Anki shows them.

    One offline file with search, topic navigation and night-mode and phone-width toggles.
    The lock file is neither read nor written. Exit codes: 0 written; 1 the source has
    problems; 3 the file could not be written.
    """
    from .preview import preview as run_preview

    try:
        result = run_preview(source, out)
    except DeckError as error:
        _fail(error)
        return
    if quiet:
        return
    click.echo(f"{result.deck.title}: {result.cards} cards in {len(result.deck.topics)} topics, "
               f"{result.sections} sections")
    click.echo(f"  wrote {result.path} ({_size(result.path)})")
    click.echo(f"  open {result.path.resolve().as_uri()}")
    click.echo(f"  in {result.seconds:.2f} s")


if __name__ == "__main__":  # pragma: no cover
    main()
