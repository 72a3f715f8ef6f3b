"""Firmware version and activation (GBCS CS05 distribute, CS06 activate, ECS52/GCS38 read).

A distributed image is staged with its hash; activation names that hash and may be future-dated
(the device holds the command until then, see `Device.schedule`). A device keeps one staged
image; activating a hash that is not staged is refused.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from opendcc.devices.errors import InvalidArgument


@dataclass(frozen=True, slots=True)
class Firmware:
    """The running version and any staged image (version and hash)."""

    version: str = "1.0.0"
    staged_version: str | None = None
    staged_hash: bytes | None = None

    def stage(self, version: str, image_hash: bytes) -> Firmware:
        """CS05: keep a distributed image, replacing any staged one."""
        if not version or not image_hash:
            raise InvalidArgument("a firmware image needs a version and a hash")
        return replace(self, staged_version=version, staged_hash=image_hash)

    def check_activation(self, image_hash: bytes) -> None:
        """CS06: refuse activation of anything but the staged image."""
        if self.staged_hash is None:
            raise InvalidArgument("no firmware image has been distributed to this device")
        if image_hash != self.staged_hash:
            raise InvalidArgument("activation hash does not match the distributed image")

    def activated(self) -> Firmware:
        """The staged image becomes the running version."""
        assert self.staged_version is not None
        return Firmware(version=self.staged_version)


DEFAULT_FIRMWARE = Firmware()
