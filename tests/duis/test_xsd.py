"""DUIS Schema V5.4: every RTDS template and the good DCC samples are valid, the -invalid ones not."""

from __future__ import annotations

from pathlib import Path

import pytest

from opendcc.duis.parser import parse_xml
from opendcc.duis.response_codes import SchemaInvalid
from opendcc.duis.xsd import mmc_schema, validate_duis

from .support import SAMPLES, TEMPLATES


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_every_template_is_schema_valid(template: Path) -> None:
    validate_duis(parse_xml(template.read_bytes()))


SAMPLE_FILES = sorted(p for p in SAMPLES.glob("*") if p.name != "duis-xxe.xml")


@pytest.mark.parametrize("sample", SAMPLE_FILES, ids=lambda p: p.name)
def test_samples_are_valid_unless_named_invalid(sample: Path) -> None:
    root = parse_xml(sample.read_bytes())
    if "-invalid" in sample.name:
        with pytest.raises(SchemaInvalid):
            validate_duis(root)
    else:
        validate_duis(root)


def test_schema_error_names_the_element() -> None:
    root = parse_xml((SAMPLES / "readfw-response-invalid.xml").read_bytes())
    with pytest.raises(SchemaInvalid, match="ServiceReference"):
        validate_duis(root)


def test_mmc_schema_loads_from_the_reference_folder() -> None:
    assert mmc_schema() is mmc_schema()
