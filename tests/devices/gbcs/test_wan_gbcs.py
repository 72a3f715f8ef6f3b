"""GBCS commands carried over the simulated WAN to the hub and the device behind it."""

from __future__ import annotations

from devices.gbcs.sites import Site, payload_view, rtds
from opendcc.devices.errors import ReplayedCounter
from opendcc.devices.gbcs import addressee

READ_SUPPLY = "ECS45_7.4_SUCCESS_COMMAND_GBCS.HEX"


def test_a_command_goes_over_the_wan_and_its_response_comes_back(site: Site) -> None:
    command = site.command(rtds(READ_SUPPLY))
    assert addressee(command) == "00-DB-12-34-56-78-90-A0"
    delivery = site.endpoint.send(command)
    site.clock.advance(30)
    assert delivery.ok and delivery.response is not None
    [response] = delivery.response
    assert payload_view(response, site.keys.supplier_side)["access_response_list_of_data"][0]["value"] == 1


def test_a_replay_over_the_wan_comes_back_as_the_device_refusal(site: Site) -> None:
    command = site.command(rtds(READ_SUPPLY))
    site.endpoint.send(command)
    site.clock.advance(30)
    replay = site.endpoint.send(command)
    site.clock.advance(30)
    assert not replay.ok and isinstance(replay.error, ReplayedCounter)
