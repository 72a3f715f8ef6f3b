"""DUIS Service Requests for adopted SMETS1 devices: access checks, the provider call, and the
signed `SMETS1ResponseMessage` answer.

Checks in DUIS order: the device is in the inventory as an adopted SMETS1 meter (E19 / E5),
the user is the registered supplier of its MPxN now (E4), its model supports the SRV (E11,
nothing sent). Then the provider adapter runs the command as the DCC, which now holds the
meter's credentials; a device that does not answer gives E20, a head-end that fails E21.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from lxml import etree
from sqlalchemy import select

from opendcc.clock import Clock
from opendcc.duis.request import DuisRequest
from opendcc.duis.response import build_response
from opendcc.duis.response_codes import ResponseCode
from opendcc.duis.xmldsig import sign
from opendcc.ids import EUI64, MPxN, RequestID
from opendcc.smets1 import tables as t
from opendcc.smets1.adapters.base import ProviderAdapter, ProviderError, Result
from opendcc.smets1.migration import DCC_ID
from opendcc.smets1.models import SMETS1_UNSUPPORTED_CODE, model
from opendcc.smets1.providers.estate import Op
from opendcc.smets1.response import (
    S1SPSigner,
    Smets1Outcome,
    service_reference,
    signed_response,
    smets1_response,
)
from opendcc.smets1.states import State
from opendcc.store import inventory
from opendcc.store.engine import Store

# SRV variant -> provider operation.
SRV_OPERATION: Final = {
    "4.1.1": Op.READ_IMPORT, "1.1.1": Op.SET_TARIFF, "1.2.1": Op.SET_PRICE,
    "7.1": Op.SUPPLY_ENABLE, "7.2": Op.SUPPLY_DISABLE, "7.3": Op.SUPPLY_ARM, "7.4": Op.SUPPLY_STATUS,
}


@dataclass(frozen=True, slots=True)
class Smets1Answer:
    """The DUIS response code and the DCC-signed `sr:Response`."""

    code: ResponseCode
    response: etree._Element


class Smets1Service:
    """Serves DUIS SRVs for adopted SMETS1 meters through their provider's adapter."""

    def __init__(self, store: Store, adapters: Mapping[str, ProviderAdapter], clock: Clock,
                 s1sp: S1SPSigner, dcc: S1SPSigner, *, dcc_id: str = DCC_ID) -> None:
        self.store = store
        self.adapters = adapters
        self.clock = clock
        self.s1sp = s1sp
        self.dcc = dcc
        self.dcc_id = dcc_id
        t.create_tables(store.engine)

    def _refusal(self, request_id: RequestID, code: ResponseCode, variant: str) -> Smets1Answer:
        root = build_response(str(request_id), code, now=self.clock.now(),
                              service_reference=service_reference(variant), variant=variant)
        return Smets1Answer(code, root)

    def answer(self, request_id: RequestID, variant: str, argument: int = 0) -> Smets1Answer:
        """Run one SRV; the DCC's `sr:Response` unsigned (the S1SP part is signed)."""
        user, device_hex = request_id.originator, request_id.target.hex.upper()
        with self.store.connect() as conn:
            row = conn.execute(select(t.devices).where(t.devices.c.device_id == device_hex)).mappings().first()
            record = inventory.get_device(conn, request_id.target)
            if record is None:
                return self._refusal(request_id, ResponseCode.E19, variant)
            if row is None or row["state"] != State.MIGRATED or record.smets != "SMETS1":
                return self._refusal(request_id, ResponseCode.E5, variant)
            registration = inventory.registration_at(conn, MPxN.parse(row["mpxn"]), self.clock.now())
        if registration is None or registration.supplier_id != user:
            return self._refusal(request_id, ResponseCode.E4, variant)
        return self.dispatch(request_id, variant, argument, provider=row["provider"],
                             model_name=row["model"], fuel=row["fuel"])

    def dispatch(self, request_id: RequestID, variant: str, argument: int, *, provider: str,
                 model_name: str, fuel: str) -> Smets1Answer:
        """The provider call and answer for a request that passed access control (no store access)."""
        user, device_hex = request_id.originator, request_id.target.hex.upper()
        if variant not in SRV_OPERATION or not model(model_name).supports(variant):
            return self._refusal(request_id, SMETS1_UNSUPPORTED_CODE, variant)
        if provider not in self.adapters:
            return self._refusal(request_id, ResponseCode.E21, variant)
        try:
            results = self.adapters[provider].commands(
                self.dcc_id, [(device_hex, SRV_OPERATION[variant], argument)])
        except ProviderError:
            return self._refusal(request_id, ResponseCode.E21, variant)
        result = results.get(device_hex)
        if result is None or result.result in (Result.NOT_RESPONDING, Result.GARBAGE):
            return self._refusal(request_id, ResponseCode.E20, variant)
        now = self.clock.now()
        outcome = Smets1Outcome(variant, request_id.target, user, request_id.counter,
                                result.result is Result.OK, result.value)
        inner = signed_response(outcome, fuel, self.s1sp, now)
        return Smets1Answer(ResponseCode.I0, smets1_response(str(request_id), ResponseCode.I0, variant, inner, now))

    def execute(self, request_id: RequestID, variant: str, argument: int = 0) -> Smets1Answer:
        """Run one SRV; the answer signed by the DCC, as a user receives it."""
        answer = self.answer(request_id, variant, argument)
        return Smets1Answer(answer.code, sign(answer.response, self.dcc.private_key, self.dcc.certificate))


def price_argument(body: etree._Element) -> int:
    """The first price in a tariff or price SRV body (the one figure SMETS1 adapters pass on)."""
    for element in body.iter():
        if isinstance(element.tag, str) and etree.QName(element).localname.endswith("Price"):
            text = (element.text or "").strip()
            if text.lstrip("-").isdigit():
                return int(text)
    return 0


def argument_of(request: DuisRequest) -> int:
    """The one figure a SMETS1 command takes from a DUIS request body (tariff and price SRVs)."""
    return price_argument(request.body) if request.service_reference_variant in ("1.1.1", "1.2.1") else 0


def execute_request(service: Smets1Service, request: DuisRequest) -> Smets1Answer:
    """Answer a parsed (and already authenticated) DUIS request for an adopted SMETS1 meter."""
    return service.execute(request.request_id, request.service_reference_variant, argument_of(request))


def request_id_for(user: EUI64, device: EUI64, counter: int) -> RequestID:
    """A RequestID user:device:counter (DUIS 5.4 §3.4)."""
    return RequestID.parse(f"{user.hyphenated}:{device.hyphenated}:{counter}")
