"""Authored command forms for variants of use cases whose RTDS vector shows a sibling only:
the critical end of the CS03A2 Method A join (non Meter) sent to the meter (SRV 8.7.1).

As in `more.py`, each form takes its sibling's learned form at run time from `learned` (never
written here: nothing read from an RTDS vector is part of the source) and writes only what
GBCS fixes and the sibling does not show (the message code of the use-case table); a rule that
goes beyond the sibling is marked GUESS. Without the sibling's vector a form is left out and
its variant stays not tabulated. docs/transform.md ("Authored forms") lists each form.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from opendcc.core.transform.authored.more import _derived

#: GBCS use-case table: the message code of CS03A2 Method A Join (non Meter).
CS03A2_CODE = 0x00AB


def join_non_meter_critical(learned: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """CS03A2 Method A Join (non Meter), the critical command to the meter (SRV 8.7.1 Join
    Service (Critical), the RTDS variant CS03A2Critical): GBCS's ASN.1 JoinDeviceCommand with
    the OtherDeviceID (a PPMID or HCALCS) as entityID, signed by the supplier (no DCC sender).
    Its structure, joinMethodAndRole and deviceType are the learned CS03A1's (the critical
    Method A join at the meter end), taken at run time. GUESS: the meter takes the same role in
    either Method A join and the deviceType is not told apart (the DUIS request does not say
    whether the other device is a PPMID or an HCALCS); only the message code is CS03A2's."""
    for sibling in [f for f in learned if f.get("use_case") == "CS03A1"
                    and isinstance(f.get("payload"), dict) and not f.get("sender")
                    and f["payload"].get("name") == "JoinDeviceCommand"][:1]:
        payload = copy.deepcopy(sibling["payload"])
        names = [e.get("name") for e in payload.get("elements") or []]
        if names[:2] != ["joinMethodAndRole", "entityID"]:
            return []
        return [_derived(sibling, "CS03A2Critical 8.7.1 AUTHORED", "CS03A2", "8.7.1",
                         CS03A2_CODE, payload=payload, paths=("OtherDeviceID",),
                         bind=[[["elements", 1, "value"], "OtherDeviceID", "eui-hex"]],
                         devices=["ESME"])]
    return []


def forms(learned: Sequence[dict[str, Any]] = ()) -> list[dict[str, Any]]:
    """The authored forms of this module, as raw table data (`tables._form`); each needs its
    sibling's learned form (else it is left out)."""
    return [*join_non_meter_critical(learned)]
