"""``python -m pipeline`` is the ``deck`` command."""

from .cli import main

main()
