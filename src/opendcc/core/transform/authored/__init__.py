"""Command forms written from the GBCS specification, for use cases the reference folder has
no RTDS Command vector for (so `learn.py` cannot learn them).

Each module holds the forms of one family of devices as the same JSON-able data the learned
tables use (`tables.tables_from_data`): the payload skeleton as the payload codec's JSON view,
the Grouping Header facts and the bindings from DUIS body paths. A learned form of the same
name wins: the authored ones only fill gaps.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from opendcc.core.transform.authored import (
    electricity,
    gas,
    gas_tariff,
    hub,
    more,
    security,
    variants,
)


def authored_form_data(learned: Sequence[dict[str, Any]] = ()) -> list[dict[str, Any]]:
    """Every authored command form, as raw table data. `learned`: the forms learned from the
    reference folder, from which some authored forms take a sibling use case's objects at run
    time (so that nothing read from the RTDS vectors is written into the source)."""
    return [*electricity.forms(learned), *gas.forms(), *hub.forms(), *security.forms(),
            *more.forms(learned), *variants.forms(learned), *gas_tariff.forms(learned)]
