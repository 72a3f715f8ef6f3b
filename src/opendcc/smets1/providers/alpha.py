"""Provider "alpha": a JSON-over-HTTP SMETS1 head-end with job submission and polling.

    POST /api/v2/meters/query {"ids": [...]}                       -> {"meters": [...]}
    POST /api/v2/jobs {"kind": "rekey"|"restore"|"command", ...}    -> 202 {"job_id": ...}
    GET  /api/v2/jobs/{job_id}     -> {"state": "running"} | {"state": "done", "results": [...]}
    GET  /api/v2/alerts?holder=H&after=N -> {"alerts": [{"seq", "meterId", "type", "time", ...}]}
    POST /admin/faults {"failure_rate": 0.02, "outage_seconds": 5, ...}
    POST /admin/alerts {"meterId": ..., "type": "TAMPER", "detail": ...} -> {"seq": n}

Run as its own process: `python -m opendcc.smets1.providers.alpha --port N --size 5000`.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from opendcc.smets1.providers.estate import AlertKind, Estate, Op, Status, chance

STATUS_TEXT: Final = {
    Status.OK: "OK", Status.NOT_RESPONDING: "NO_RESPONSE", Status.CREDENTIAL_MISMATCH: "KEY_MISMATCH",
    Status.UNSUPPORTED: "NOT_SUPPORTED", Status.NOT_AUTHORISED: "FORBIDDEN",
    Status.UNKNOWN_DEVICE: "UNKNOWN_METER",
}
OPERATIONS: Final = {
    "readImport": Op.READ_IMPORT, "setTariff": Op.SET_TARIFF, "setPrice": Op.SET_PRICE,
    "supplyOn": Op.SUPPLY_ENABLE, "supplyOff": Op.SUPPLY_DISABLE, "supplyArm": Op.SUPPLY_ARM,
    "supplyState": Op.SUPPLY_STATUS,
}

ALERT_TYPES: Final = {
    "POWER_OUTAGE": AlertKind.POWER_OUTAGE, "POWER_RESTORED": AlertKind.POWER_RESTORED,
    "TAMPER": AlertKind.TAMPER, "LOW_CREDIT": AlertKind.LOW_CREDIT,
    "CREDIT_ADDED": AlertKind.CREDIT_ADDED,
}


def _garbage(rng: random.Random) -> str:
    return "".join(chr(rng.randrange(33, 127)) for _ in range(rng.randrange(3, 12)))


def create_app(estate: Estate, *, job_delay: float = 0.0) -> FastAPI:
    """The alpha head-end over one estate."""
    app = FastAPI(title="SMETS1 provider alpha")
    jobs: dict[str, list[dict[str, Any]] | None] = {}
    counter = itertools.count(1)
    rng = random.Random(estate.seed)

    @app.middleware("http")
    async def outage(request: Request, call_next: Any) -> Any:
        if estate.faults.in_outage() and not request.url.path.startswith("/admin"):
            return JSONResponse({"error": "head-end out of service"}, status_code=503)
        return await call_next(request)

    @app.post("/admin/faults", response_model=None)
    async def faults(settings: dict[str, Any]) -> Any:
        try:
            estate.faults.update(settings)
        except (KeyError, ValueError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return {"ok": "faults updated"}

    @app.post("/admin/alerts", response_model=None)
    async def raise_alert(body: dict[str, Any]) -> Any:
        kind = ALERT_TYPES.get(str(body.get("type")))
        if kind is None:
            return JSONResponse({"error": f"unknown alert type {body.get('type')!r}"}, status_code=400)
        alert = estate.raise_alert(str(body.get("meterId")), kind, str(body.get("detail", "")),
                                   str(body.get("utrn", "")))
        if alert is None:
            return JSONResponse({"error": f"unknown meter {body.get('meterId')!r}"}, status_code=404)
        return {"seq": alert.sequence}

    @app.get("/api/v2/alerts")
    async def alerts(holder: str, after: int = 0) -> dict[str, list[dict[str, Any]]]:
        kinds = {v: k for k, v in ALERT_TYPES.items()}
        return {"alerts": [{"seq": a.sequence, "meterId": a.device_id, "type": kinds[a.kind],
                            "time": a.at.isoformat(), "detail": a.detail, "utrn": a.utrn}
                           for a in estate.alerts_for(holder, after)]}

    @app.post("/api/v2/meters/query")
    async def query(body: dict[str, list[str]]) -> dict[str, list[dict[str, Any]]]:
        found: list[dict[str, Any]] = []
        for device_id in body.get("ids", []):
            meter = estate.meters.get(device_id)
            if meter is None:
                found.append({"meterId": device_id, "status": "UNKNOWN_METER"})
                continue
            found.append({"meterId": meter.device_id, "status": "OK", "model": meter.model,
                          "fw": meter.firmware, "fuel": meter.fuel, "mpxn": meter.mpxn,
                          "keyHolder": meter.owner, "dormant": meter.dormant})
        return {"meters": found}

    def run(kind: str, caller: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = []
        for item in items:
            device_id = str(item.get("meterId"))
            value = 0
            if kind == "rekey":
                status = estate.replace_credentials(device_id, str(item["currentHolder"]), caller)
            elif kind == "restore":
                status = estate.restore_credentials(device_id, caller, str(item["holder"]))
            else:
                status, value = estate.command(caller, device_id, OPERATIONS[str(item["op"])],
                                               int(item.get("arg", 0)))
            if estate.garbled(device_id, kind):
                results.append({"meterId": device_id, "status": _garbage(rng), "value": _garbage(rng)})
            else:
                results.append({"meterId": device_id, "status": STATUS_TEXT[status], "value": value})
        return results

    @app.post("/api/v2/jobs", status_code=202, response_model=None)
    async def submit(body: dict[str, Any]) -> dict[str, str] | Response:
        kind = str(body.get("kind"))
        items = list(body.get("items", []))
        if kind not in ("rekey", "restore", "command") or any(
                kind == "command" and i.get("op") not in OPERATIONS for i in items):
            return JSONResponse({"error": f"bad job kind or operation in {kind!r}"}, status_code=400)
        job_id = f"J{next(counter):08d}"
        if estate.faults.drop_rate and chance(estate.seed, "drop", job_id, 0) < estate.faults.drop_rate:
            run(kind, str(body.get("caller")), items[: len(items) // 2])
            return Response(b"connection reset", status_code=502)
        jobs[job_id] = None

        async def later() -> None:
            await asyncio.sleep(job_delay)
            jobs[job_id] = run(kind, str(body.get("caller")), items)

        app.state.tasks.add(task := asyncio.get_running_loop().create_task(later()))
        task.add_done_callback(app.state.tasks.discard)
        return {"job_id": job_id}

    @app.get("/api/v2/jobs/{job_id}", response_model=None)
    async def poll(job_id: str) -> dict[str, Any] | Response:
        if job_id not in jobs:
            return JSONResponse({"error": f"no job {job_id}"}, status_code=404)
        results = jobs[job_id]
        if results is None:
            return {"state": "running"}
        del jobs[job_id]  # results are collected once
        return {"state": "done", "results": results}

    app.state.tasks = set()
    return app


def main(argv: list[str] | None = None) -> None:
    """Serve an alpha estate: `python -m opendcc.smets1.providers.alpha --port N`."""
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--dormant-ratio", type=float, default=0.05)
    parser.add_argument("--failure-rate", type=float, default=0.0)
    parser.add_argument("--garbage-rate", type=float, default=0.0)
    parser.add_argument("--drop-rate", type=float, default=0.0)
    parser.add_argument("--model", default=None, help="only meters of this model")
    parser.add_argument("--job-delay", type=float, default=0.0)
    args = parser.parse_args(argv)
    estate = Estate.generate("alpha", args.size, args.seed, args.dormant_ratio, args.model)
    estate.faults.update({"failure_rate": args.failure_rate, "garbage_rate": args.garbage_rate,
                          "drop_rate": args.drop_rate})
    uvicorn.run(create_app(estate, job_delay=args.job_delay), host=args.host, port=args.port,
                log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
