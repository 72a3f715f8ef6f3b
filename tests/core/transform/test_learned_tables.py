"""The command tables are learned from the reference folder at run time, and the values the DCC
derives (the time of issue, a profile read's sample count) follow the request and the clock,
not the RTDS vector they were learned from."""

from __future__ import annotations

import importlib.resources
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import transform_rtds as rtds
from test_transform import DCC_COUNTER, NOW, _at, device_type, form_of, run

from opendcc.core.transform import CommandNotTabulated, default_tables, learn, transform
from opendcc.core.transform.conversions import ZCL_EPOCH, convert
from opendcc.core.transform.errors import CommandFormsUnavailable
from opendcc.core.transform.tables import tables_from_data
from opendcc.duis.parser import parse_xml
from opendcc.duis.request import read_request
from opendcc.gbcs import codec
from opendcc.smki.keystore import KeyStore


def test_no_learned_table_is_part_of_the_package() -> None:
    package = importlib.resources.files("opendcc.core.transform")
    assert not [p.name for p in package.iterdir() if p.name.endswith(".json")]


def test_a_missing_reference_folder_is_named_with_opendcc_reference(tmp_path: Path) -> None:
    with pytest.raises(CommandFormsUnavailable, match="OPENDCC_REFERENCE"):
        learn.load_command_data(tmp_path / "nowhere")


def test_learned_tables_are_cached_outside_the_source_tree_and_read_back(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENDCC_DATA", str(tmp_path))
    first, took = learn.load_command_data(rtds.REF)
    path = learn.cache_path(rtds.REF)
    assert path.is_relative_to(tmp_path / "cache")
    assert path.exists() == (took > learn.CACHE_AFTER_S)
    if not path.exists():
        pytest.skip(f"learning took {took:.2f} s: nothing cached")
    again, took_again = learn.load_command_data(rtds.REF)
    assert took_again == 0.0
    learned = tables_from_data(first).forms
    assert tables_from_data(again).forms == learned
    # the default tables are the learned forms, then the authored ones (`authored/`)
    assert default_tables().forms[:len(learned)] == learned


def _templates_binding(source: str | None = None, conversion: str | None = None) -> list[rtds.Template]:
    keys = KeyStore.from_reference()
    out = []
    for t in rtds.in_scope():
        try:
            run(t, keys)
        except CommandNotTabulated:
            continue
        if any(b.source == source or (conversion and b.conversion.startswith(conversion))
               for b in form_of(t, keys).bindings):
            out.append(t)
    return out


@pytest.mark.parametrize("template", _templates_binding(source="@now"), ids=lambda t: t.name)
def test_issuer_event_ids_are_the_time_of_issue(template: rtds.Template, keys: KeyStore) -> None:
    form = form_of(template, keys)
    for now in (NOW, NOW + timedelta(days=3, seconds=7)):
        got = transform(template.request, now=now, counter=DCC_COUNTER, keys=keys,
                        use_case=template.variant, device_type=device_type(template.request))
        view = codec.to_json(codec.decode(got.gbcs, keys))["Payload"]["Decoded"]
        for b in form.bindings:
            if b.source == "@now":
                assert _at(view, list(b.at)) == int((now - ZCL_EPOCH).total_seconds()), b


@pytest.mark.parametrize("template", _templates_binding(conversion="samples:"), ids=lambda t: t.name)
def test_sample_count_follows_the_requested_period(template: rtds.Template, keys: KeyStore) -> None:
    form = form_of(template, keys)
    binding = next(b for b in form.bindings if b.conversion.startswith("samples:"))
    interval = int(binding.conversion.split(":")[1])
    text = (rtds.REF / "duis" / "templates" / template.name).read_text(encoding="utf-8")
    counts = []
    for extra_days in (0, 1):
        def later(m: re.Match[str], days: int = extra_days) -> str:
            when = datetime.fromisoformat(m.group(2).replace("Z", "+00:00")).astimezone(UTC)
            return f"{m.group(1)}{(when + timedelta(days=days)).strftime('%Y-%m-%dT%H:%M:%SZ')}"
        edited = re.sub(r"(<sr:EndDateTime>)([^<]+)", later, text)
        request = read_request(parse_xml(edited.encode()))
        view = codec.to_json(codec.decode(run(template, keys, request), keys))["Payload"]["Decoded"]
        counts.append(_at(view, list(binding.at)))
    assert counts[1] - counts[0] == 86400 // interval


def test_a_period_that_ends_before_it_starts_cannot_be_counted() -> None:
    with pytest.raises(ValueError, match="before it starts"):
        convert("samples:1800", "2015-01-02T00:00:00Z\n2015-01-01T00:00:00Z", 0)
