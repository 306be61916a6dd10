"""Import .apkg files into real Anki collections (the `anki` package bundles Anki's Rust backend)."""

from __future__ import annotations

from pathlib import Path

from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest


def import_package(col: Collection, apkg: Path):  # type: ignore[no-untyped-def]
    """Import ``apkg`` as Anki desktop does; returns the import log."""
    request = ImportAnkiPackageRequest(
        package_path=str(apkg.resolve()),
        options=ImportAnkiPackageOptions(with_scheduling=True, with_deck_configs=True),
    )
    return col.import_anki_package(request).log


def notes_by_card_id(col: Collection) -> dict[str, object]:
    """Every note of the collection keyed by its CardId field."""
    out = {}
    for nid in col.find_notes(""):
        note = col.get_note(nid)
        out[note["CardId"]] = note
    return out
