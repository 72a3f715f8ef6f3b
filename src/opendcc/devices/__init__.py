"""opendcc.devices."""
