"""opendcc.network."""
