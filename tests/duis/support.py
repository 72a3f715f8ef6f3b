"""Shared constants for the DUIS tests: the reference folders they are parametrised over."""

from __future__ import annotations

from opendcc.config import reference_dir

TEMPLATES = sorted((reference_dir() / "duis" / "templates").glob("*"))
SAMPLES = reference_dir() / "duis" / "samples"
KEYS = reference_dir() / "keys"

# The one template the DCC tool cannot sign: its originator 90-B3-D5-1F-30-01-00-08 has no key
# in the tool or in keys/ (reference README, "Facts measured").
UNSIGNABLE = {"ECS47e_7.16_APC_OUTPUT_SUCCESS_REQUEST_DUIS.XML"}

DCC_KEY = KEYS / "dsp-xml-sign-90B3D51F30000002-ds.key"
DCC_CERT = KEYS / "dsp-xml-sign-90B3D51F30000002-ds.pem"
