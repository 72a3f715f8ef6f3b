"""The DCC Transform: DUIS device requests into GBCS commands, from data tables per use case.

    from opendcc.core.transform import transform, finish_signed_precommand
    result = transform(request, now=clock.now(), counter=dcc_counter, keys=keystore)
    result.gbcs            # Pre-Command (CV 4) or the MAC'd Command (CV 1-3)
    finish_signed_precommand(signed_request, keys=keystore)   # CV 5-7

See docs/transform.md.
"""

from opendcc.core.transform.builder import (
    TransformResult,
    build_command,
    check_execution,
    finish_signed_precommand,
    select_form,
    transform,
)
from opendcc.core.transform.errors import (
    BadRequestValue,
    CommandNotTabulated,
    ExecutionDateTimeExpired,
    KeyNotAvailable,
    NoGbcsUseCase,
    PreCommandMalformed,
    PreCommandSignatureInvalid,
    PreCommandWrongSigner,
)
from opendcc.core.transform.tables import CommandForm, CommandTables, default_tables

__all__ = [
    "BadRequestValue",
    "CommandForm",
    "CommandNotTabulated",
    "CommandTables",
    "ExecutionDateTimeExpired",
    "KeyNotAvailable",
    "NoGbcsUseCase",
    "PreCommandMalformed",
    "PreCommandSignatureInvalid",
    "PreCommandWrongSigner",
    "TransformResult",
    "build_command",
    "check_execution",
    "default_tables",
    "finish_signed_precommand",
    "select_form",
    "transform",
]
