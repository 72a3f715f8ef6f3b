"""opendcc.bus."""
