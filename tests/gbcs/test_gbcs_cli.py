"""`opendcc gbcs decode` and `opendcc gbcs encode`."""

from __future__ import annotations

import json

from gbcs_vectors import read_vector, vector_paths
from typer.testing import CliRunner

from opendcc.cli.main import app

runner = CliRunner()


def test_decode_prints_a_tree_naming_the_use_case() -> None:
    path = vector_paths()[0]
    result = runner.invoke(app, ["gbcs", "decode", str(path)])
    assert result.exit_code == 0, result.output
    assert "Grouping Header" in result.output and "Use Case" in result.output


def test_decode_json_then_encode_gives_the_same_octets() -> None:
    path = vector_paths()[-1]
    decoded = runner.invoke(app, ["gbcs", "decode", read_vector(path).hex(), "--json"])
    assert decoded.exit_code == 0, decoded.output
    view = json.loads(decoded.output)
    assert view["Verification"]["Signature"] in ("verified", "no key", "n.a.")
    encoded = runner.invoke(app, ["gbcs", "encode", json.dumps(view)])
    assert encoded.exit_code == 0, encoded.output
    assert encoded.output.strip() == read_vector(path).hex().upper()


def test_decode_of_bad_input_exits_2_with_the_error() -> None:
    result = runner.invoke(app, ["gbcs", "decode", "DF0901"])
    assert result.exit_code == 2
    assert "Truncated" in result.output
