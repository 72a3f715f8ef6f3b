"""`opendcc serve`: the whole DCC in one process, with the embedded defaults.

SQLite under ./var (or `--store postgresql://...`), the ZAZ1 users and the demo estate seeded,
the DUIS gateway on port 8079 (DCC Boxed's), the delivery worker for async responses, and the
SMKI repository on 8083 when that service is present.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import ssl
import threading
from pathlib import Path
from typing import Annotated, Any

import typer

DEFAULT_PORT = 8079
DEFAULT_SMKI_PORT = 8083


def register(app: typer.Typer) -> None:
    """Add `opendcc serve`."""

    @app.command()
    def serve(
        host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="DUIS gateway port (DCC Boxed: 8079).")] = DEFAULT_PORT,
        store: Annotated[str | None, typer.Option(
            help="Store URL: sqlite:///path or postgresql://...; default SQLite under the data dir."
        )] = None,
        reference: Annotated[Path | None, typer.Option(
            help="Reference artefacts folder (default OPENDCC_REFERENCE or ../shared/reference)."
        )] = None,
        data: Annotated[Path | None, typer.Option(
            help="Data directory for the embedded store (default OPENDCC_DATA or ./var)."
        )] = None,
        smki_store: Annotated[str | None, typer.Option(
            help="SMKI repository URL; default: --store when it is PostgreSQL (so every "
                 "process shares certificates and revocations), else SQLite under the data dir."
        )] = None,
        smki_port: Annotated[int, typer.Option(help="SMKI repository port (0: off).")] = DEFAULT_SMKI_PORT,
        poll: Annotated[float, typer.Option(help="Seconds between outbox delivery passes.")] = 0.5,
        premises: Annotated[int, typer.Option(
            help="Generated premises in the emulated estate, beside the DCC Boxed ones.")] = 10,
        devices: Annotated[bool, typer.Option(
            help="Run the emulated estate behind the simulated WAN; --no-devices: the DCC "
                 "Transform only (Pre-Commands), E20 for everything that crosses the WAN."
        )] = True,
        tls_cert: Annotated[Path | None, typer.Option(
            help="Serve HTTPS with this PEM certificate (chain) ...")] = None,
        tls_key: Annotated[Path | None, typer.Option(help="... and this PEM private key.")] = None,
        tls_client_ca: Annotated[Path | None, typer.Option(
            help="Require client certificates issued by these PEM CAs (mutual TLS).")] = None,
    ) -> None:
        """Run the DCC: DUIS gateway, delivery worker and SMKI repository, until Ctrl-C."""
        import uvicorn

        if (tls_cert is None) != (tls_key is None) or (tls_client_ca and not tls_cert):
            raise typer.BadParameter("HTTPS needs --tls-cert and --tls-key (and those for "
                                     "--tls-client-ca)")
        if data is not None:
            os.environ["OPENDCC_DATA"] = str(data.resolve())
        if reference is not None:
            os.environ["OPENDCC_REFERENCE"] = str(reference.resolve())

        from opendcc.gateway import logs
        from opendcc.gateway.app import create_app
        from opendcc.gateway.wiring import GatewayConfig

        logs.configure()
        if smki_store is None and store is not None and store.startswith("postgresql"):
            smki_store = store
        config = GatewayConfig(store_url=store, reference=reference, smki_url=smki_store)
        services, side = _build(config, devices=devices, premises=premises)
        # Learn (or read from the cache) the Transform's command forms before taking requests,
        # so the first request does not wait seconds for it (and time out a client).
        from opendcc.core.transform.errors import CommandFormsUnavailable
        from opendcc.core.transform.tables import default_tables

        with contextlib.suppress(CommandFormsUnavailable):  # then each transform says so
            default_tables()
        services.worker.start(poll=poll)
        smki_server = _start_smki(host, smki_port, services) if smki_port else None

        base = f"{'https' if tls_cert else 'http'}://{host}:{port}"
        typer.echo(f"opendcc DUIS gateway  {base}/api/v1/serviceD | serviceS | serviceT")
        typer.echo(f"health / metrics      {base}/health  {base}/metrics")
        typer.echo(f"API docs              {base}/docs")
        typer.echo(f"store                 {services.store.url}")
        if services.repository is not None:
            typer.echo(f"SMKI repository store {services.repository.url}")
        if smki_server is not None:
            typer.echo(f"SMKI repository       http://{host}:{smki_port}/")
        if side is not None:
            typer.echo(f"emulated estate       {sum(1 for _ in side.estate.device_ids())} devices behind "
                       "the simulated WAN")
        tls: dict[str, Any] = {}
        if tls_cert is not None:
            tls = {"ssl_certfile": str(tls_cert), "ssl_keyfile": str(tls_key)}
            if tls_client_ca is not None:
                tls |= {"ssl_ca_certs": str(tls_client_ca), "ssl_cert_reqs": ssl.CERT_REQUIRED}
        from opendcc.smets1.serve import attach_smets1

        gateway_app = create_app(services=services)
        smets1 = attach_smets1(services, gateway_app)  # SMETS1 route, /smets1 progress, S1SP alerts
        server = uvicorn.Server(uvicorn.Config(gateway_app, host=host,
                                               port=port, log_level="warning", access_log=False,
                                               **tls))
        try:
            server.run()
        finally:
            smets1.close()
            services.worker.stop()
            if side is not None:
                side.router.clock.stop()
            if smki_server is not None:
                smki_server.should_exit = True
            services.close()


def _build(config: Any, *, devices: bool, premises: int) -> tuple[Any, Any]:
    """The gateway's services and, with `devices`, the emulated estate behind the WAN
    (`core.device_layer.serve_device_side`), its answers and alerts delivered by the gateway."""
    from opendcc.gateway.wiring import build_services

    if not devices:
        return build_services(config), None
    from opendcc.core.alerts import registered_parties
    from opendcc.core.dcc_schedules import attach_stored_schedules
    from opendcc.core.device_layer import serve_device_side
    from opendcc.smki.authority import Authority
    from opendcc.smki.keystore import KeyStore
    from opendcc.smki.repository import CertificateRepository
    from opendcc.store.engine import open_store

    store = open_store(config.store_url)
    # The devices' SMKI certificates go to the repository the SMKI service serves.
    repository = CertificateRepository(config.smki_url)
    repository.import_reference(config.reference)
    service, side = serve_device_side(store, KeyStore.from_reference(config.reference),
                                      premises=premises, authority=Authority.open(repository))
    services = build_services(config, service=service, store=store, repository=repository)
    services.owns_repository = True  # closed with the services
    side.connect(services.deliver, registered_parties(store, side.router.clock.now))
    # DCC schedules (5.1-5.3) live in the store: arm those a previous run left, send the
    # runs that fell due while the DCC was down.
    attach_stored_schedules(side.layer, store)
    return services, side


def _start_smki(host: str, port: int, services: Any) -> Any:
    """Serve `opendcc.smki.service.create_smki_app` in a thread, when that module exists."""
    try:
        module = importlib.import_module("opendcc.smki.service")
    except ImportError:
        return None
    factory = getattr(module, "create_smki_app", None)
    if factory is None:
        return None
    import uvicorn

    try:
        smki_app = factory(getattr(services, "repository", None))
    except TypeError:
        smki_app = factory()
    server = uvicorn.Server(uvicorn.Config(smki_app, host=host, port=port, log_level="warning",
                                           access_log=False))
    # uvicorn installs signal handlers only in the main thread; this one just serves.
    threading.Thread(target=server.run, name="opendcc-smki", daemon=True).start()
    return server
