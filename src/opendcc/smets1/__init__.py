"""opendcc.smets1."""
