"""opendcc.sim."""
