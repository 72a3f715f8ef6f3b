"""DCC-side adapters, one per SMETS1 service provider protocol."""

from __future__ import annotations

from opendcc.smets1.adapters.base import ProviderAdapter


def connect(provider: str, address: str) -> ProviderAdapter:
    """An adapter for `provider` ("alpha": http://host:port, "beta": host:port)."""
    if provider == "alpha":
        from opendcc.smets1.adapters.alpha import AlphaAdapter

        return AlphaAdapter(address)
    if provider == "beta":
        from opendcc.smets1.adapters.beta import BetaAdapter

        host, _, port = address.rpartition(":")
        return BetaAdapter(host or "127.0.0.1", int(port))
    raise ValueError(f"no adapter for SMETS1 service provider {provider!r} (alpha, beta)")
