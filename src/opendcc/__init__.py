"""opendcc: an open-source, runnable model of GB smart-metering DCC."""

__version__ = "0.1.0"
