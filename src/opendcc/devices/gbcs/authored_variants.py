"""The device side of `core.transform.authored.variants`: the ESME records the supplier's
audible alarm and logging event behaviours (ECS25a2/a3, no RTDS vector) as it records ECS25a1's
HAN ones (`settings.py`), and answers them with the Response built for a DLMS set."""

from __future__ import annotations

from opendcc.devices.device import DeviceType

#: GBCS use case -> the device type that records the configuration it sets.
RECORDED: dict[str, DeviceType] = {"ECS25a2": DeviceType.ESME, "ECS25a3": DeviceType.ESME}
