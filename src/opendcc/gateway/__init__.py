"""opendcc.gateway."""
