"""`python -m opendcc` is the CLI."""

from opendcc.cli.main import app

app()
