"""MMC Schema V5.4 rendering for Parse and Correlate: tables, builders and the renderer."""

from opendcc.client.mmc import builders as _builders  # noqa: F401  (registers the builders)
from opendcc.client.mmc import structures as _structures  # noqa: F401  (and the structured ones)
from opendcc.client.mmc.render import MMC_NS, Fill, Rendered, render

__all__ = ["MMC_NS", "Fill", "Rendered", "render"]
