"""opendcc.client."""
