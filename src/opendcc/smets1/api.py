"""HTTP API for SMETS1 migration progress: a FastAPI router to mount beside the gateway.

    GET /smets1/progress            totals, per provider and per cohort
    GET /smets1/cohorts/{cohort_id} one cohort with its counts and approvers
    GET /smets1/cohorts/{cohort_id}/devices  the per-device report: state and reason
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, HTTPException

from opendcc.smets1.progress import counts, device_report
from opendcc.store.engine import Store


def create_smets1_router(store: Store, *, prefix: str = "/smets1") -> APIRouter:
    """A router serving migration progress read from `store`."""
    router = APIRouter(prefix=prefix, tags=["smets1"])

    @router.get("/progress")
    def progress() -> dict[str, Any]:
        p = counts(store)
        return {"totals": p.totals.as_dict(),
                "providers": {k: v.as_dict() for k, v in sorted(p.providers.items())},
                "cohorts": [asdict(c) for c in p.cohorts]}

    @router.get("/cohorts/{cohort_id}")
    def cohort(cohort_id: int) -> dict[str, Any]:
        for c in counts(store).cohorts:
            if c.cohort_id == cohort_id:
                return asdict(c)
        raise HTTPException(status_code=404, detail=f"no SMETS1 cohort {cohort_id}")

    @router.get("/cohorts/{cohort_id}/devices")
    def devices(cohort_id: int) -> list[dict[str, Any]]:
        return [asdict(r) for r in device_report(store, cohort_id)]

    return router
