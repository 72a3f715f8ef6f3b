"""opendcc.inventory."""
