"""Compile a YAML question deck into an Anki package and a printable PDF cheat-sheet.

The pipeline, in one line: :func:`pipeline.build.build` = ``load`` → reconcile the lock →
select → write (``anki``, ``pdf``) → publish atomically.
"""

__version__ = "1.0.0"
