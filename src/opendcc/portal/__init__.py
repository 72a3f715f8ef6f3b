"""opendcc.portal."""
