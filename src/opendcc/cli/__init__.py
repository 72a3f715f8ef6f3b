"""opendcc.cli."""
