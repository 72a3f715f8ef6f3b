"""opendcc.core."""
