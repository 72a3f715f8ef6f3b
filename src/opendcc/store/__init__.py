"""opendcc.store."""
