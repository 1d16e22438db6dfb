"""``python -m mentalize_nlp`` runs the ``mentalize`` command."""

from .cli import main

main()
