"""The Parse and Correlate tables, loaded once from `tables.json` (data, not code).

- `smets_data`: SRV variant -> the SMETSData element of MMC Schema V5.4 that carries its answer.
- `schema_has_fields`: SRV variants whose SMETSData type has child elements (values to fill);
  the others carry only the `MessageSuccess` attribute (ra:ServiceRequestBaseType).
- `use_case_srv`: GBCS use case -> the SRV variants whose commands it carries (RTDS naming).
- `alert_descriptions`: GBCS alert code (hex) -> AlertDescription text.
- `builders`: SRV variant or use case -> name of the SMETSData builder that fills it.
- `smets_fields`: use case -> field specs `[element path, source, conversion]` applied by the
  `fields` builder (see opendcc.client.mmc.builders for the small language).
- `use_case_requires`: use cases that share an SRV, told apart by an element of the request
  body (1.6: `Credit` -> ECS02/GCS02, `Prepayment` -> ECS03/GCS03).
- `asn1_status`: use case -> the element of its ASN.1 response SEQUENCE that is the status.
- `failure_values`: use case -> [source, value]: the device reports failure with this value.
- `correlation_unchecked`: DUIS request elements Correlate does not compare, and why.
- `gas_billing_periodicity`: ZCL billing period timebase (1 days, 2 weeks, 3 months) and
  duration -> the MMC Periodicity of a gas billing calendar.
- `certificate_usage`, `remote_party_roles`, `asn1_status_names`: GBCS ASN.1 security
  credential values (key usage octet, remotePartyRole, statusCode) -> MMC words.
- `tariff_script_actions`: GBCS tariff switching script selectors -> TOU or block action
  (selector minus base); `tariff_calendars`: per tariff use case, the data items holding the
  day, week and season profiles and special days; `tariff_fields`: its price field specs.
- `gas_event_settings`: the GSME event codes MMC's GasSupplierAlertEventSettings lists, in
  its order; `gas_event_configuration`: its settings and the ZCL event configuration bits
  (bits 0-2 the log, 3 push to WAN, 4 push to HAN, 5-6 raise an alarm).
- `correlation_derived`: Pre-Command payload fields (a JSON-view key, or `UseCase:path` prefix)
  whose values GBCS fixes or derives rather than the request commanding them, and why.
- `correlation_words`: request enumeration words and the number GBCS carries for each.
- `correlation_encodings`: DUIS request elements GBCS encodes other than by value
  (`year-1900`: GBZ one-octet years; `seconds-after:X`: a date-time X plus this many seconds).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True, slots=True)
class MmcTables:
    """The tables of `tables.json`, read into dictionaries."""

    smets_data: dict[str, str]
    schema_has_fields: frozenset[str]
    use_case_srv: dict[str, tuple[str, ...]]
    alert_descriptions: dict[int, str]
    builders: dict[str, str]
    correlation_unchecked: dict[str, str]  # request element -> why it is not compared
    correlation_encodings: dict[str, str]  # request element -> how GBCS encodes it, if special
    smets_fields: dict[str, tuple[tuple[str, str, str], ...]]  # use case -> field specs
    use_case_requires: dict[str, str]  # use case -> request body element that selects it
    asn1_status: dict[str, int | str]  # use case -> element of its ASN.1 response holding the status
    failure_values: dict[str, tuple[str, object]]  # use case -> (source, value meaning failure)
    correlation_derived: dict[str, str]  # payload field (or `UseCase:path`) GBCS sets -> why
    correlation_words: dict[str, int]  # request word -> the number GBCS carries for it
    gas_billing_periodicity: dict[str, str]  # "timebase:duration" -> MMC Periodicity
    certificate_usage: dict[str, str]  # key usage octet (hex) -> MMC certificate type
    remote_party_roles: dict[int, str]  # GBCS remotePartyRole -> MMC RemotePartyRole
    asn1_status_names: dict[int, str]  # GBCS statusCode -> MMC ASN1Status
    tariff_script_actions: dict[str, tuple[str, int]]  # "low-high" selectors -> (element, base)
    tariff_calendars: dict[str, dict[str, str]]  # use case -> data items of its calendar parts
    tariff_fields: dict[str, tuple[tuple[str, str, str], ...]]  # use case -> price field specs
    gas_event_settings: tuple[int, ...]  # GSME event codes in MMC's order
    gas_event_configuration: dict[str, int]  # MMC setting -> ZCL event configuration bits

    def element_for(self, srv: str | None) -> str | None:
        """MMC Schema V5.4 ResponsePayload/SMETSData: the element answering this SRV variant."""
        return self.smets_data.get(srv or "")

    def srvs_for(self, use_case: str) -> tuple[str, ...]:
        """The SRV variants a GBCS use case serves (empty when none is known)."""
        return self.use_case_srv.get(use_case, ())

    def default_srv(self, use_case: str) -> str | None:
        """The SRV variant to assume for a use case when the caller does not say (first listed)."""
        srvs = self.srvs_for(use_case)
        return srvs[0] if srvs else None

    def builder_for(self, srv: str | None, use_case: str) -> str | None:
        """The SMETSData builder for this use case (first) or SRV variant, if one is tabled."""
        if use_case in self.smets_fields:
            return "fields"
        return self.builders.get(use_case) or self.builders.get(srv or "")

    def alert_description(self, code: int) -> str:
        """GBCS alert code -> AlertDescription (a generic text for codes not in the table)."""
        return self.alert_descriptions.get(code, f"GBCS alert 0x{code:04X}")


@cache
def tables() -> MmcTables:
    """The tables, read from the package on first use and kept."""
    raw = json.loads(resources.files(__package__).joinpath("tables.json").read_text("utf-8"))
    return MmcTables(
        smets_data=dict(raw["smets_data"]),
        schema_has_fields=frozenset(raw["schema_has_fields"]),
        use_case_srv={k: tuple(v) for k, v in raw["use_case_srv"].items()},
        alert_descriptions={int(k, 16): v for k, v in raw["alert_descriptions"].items()},
        builders=dict(raw.get("builders", {})),
        correlation_unchecked=dict(raw.get("correlation_unchecked", {})),
        correlation_encodings=dict(raw.get("correlation_encodings", {})),
        use_case_requires=dict(raw.get("use_case_requires", {})),
        asn1_status={k: v if isinstance(v, str) else int(v) for k, v in raw.get("asn1_status", {}).items()},
        failure_values={k: (str(v[0]), v[1]) for k, v in raw.get("failure_values", {}).items()},
        correlation_derived=dict(raw.get("correlation_derived", {})),
        correlation_words={k: int(v) for k, v in raw.get("correlation_words", {}).items()},
        gas_billing_periodicity=dict(raw.get("gas_billing_periodicity", {})),
        certificate_usage=dict(raw.get("certificate_usage", {})),
        remote_party_roles={int(k): v for k, v in raw.get("remote_party_roles", {}).items()},
        asn1_status_names={int(k): v for k, v in raw.get("asn1_status_names", {}).items()},
        tariff_script_actions={k: (str(v[0]), int(v[1])) for k, v in raw.get("tariff_script_actions", {}).items()},
        tariff_calendars={k: dict(v) for k, v in raw.get("tariff_calendars", {}).items()},
        gas_event_settings=tuple(int(c, 16) for c in raw.get("gas_event_settings", ())),
        gas_event_configuration={k: int(v) for k, v in raw.get("gas_event_configuration", {}).items()},
        tariff_fields={k: tuple((str(a), str(b), str(c)) for a, b, c in v)
                       for k, v in raw.get("tariff_fields", {}).items()},
        smets_fields={k: tuple((str(a), str(b), str(c)) for a, b, c in v)
                      for k, v in raw.get("smets_fields", {}).items() if not k.startswith("_")},
    )


def service_reference(srv: str) -> str:
    """DUIS: the Service Reference of a variant is its first two numbers (4.1.1 -> 4.1)."""
    return ".".join(srv.split(".")[:2])
