"""`opendcc users`: the DUIS users in the store and their Receive Response Service URLs."""

from __future__ import annotations

from typing import Annotated

import typer

StoreOption = Annotated[str | None, typer.Option(
    help="Store URL (default: the embedded SQLite under the data directory).")]


def register(app: typer.Typer) -> None:
    """Add `opendcc users list|set-response-url`."""
    users = typer.Typer(help="DUIS users and where their async responses go.", no_args_is_help=True)
    app.add_typer(users, name="users")

    @users.command("list")
    def list_users(store: StoreOption = None) -> None:
        """Every DUIS user: User ID, roles, name, response URL."""
        from opendcc.store import users as users_repo
        from opendcc.store.engine import open_store

        opened = open_store(store)
        try:
            with opened.connect() as conn:
                rows = users_repo.list_users(conn)
        finally:
            opened.close()
        for user in rows:
            roles = ",".join(sorted(user.roles))
            typer.echo(f"{user.user_id}  {roles:<12} {user.name:<36} {user.response_url or '-'}")

    @users.command("set-response-url")
    def set_response_url(
        user_id: Annotated[str, typer.Argument(help="User ID (EUI-64), e.g. 90-B3-D5-1F-30-01-00-00")],
        url: Annotated[str, typer.Argument(help="http(s) URL of the user's Receive Response Service")],
        store: StoreOption = None,
    ) -> None:
        """Register where the DCC POSTs this user's asynchronous DUIS responses."""
        from datetime import UTC, datetime

        from opendcc.gateway.stores import StoreOutbox, StoreUsers
        from opendcc.ids import EUI64
        from opendcc.store.engine import open_store

        if not url.startswith(("http://", "https://")):
            raise typer.BadParameter(f"response URL must be http(s), got {url!r}")
        opened = open_store(store)
        try:
            StoreUsers(opened).set_response_url(user_id, url)
            # a running gateway's worker then sends the waiting responses on its next pass
            waiting = StoreOutbox(opened).retry_now(EUI64.parse(user_id).hyphenated,
                                                    datetime.now(UTC))
        except KeyError:
            typer.echo(f"no DUIS user {user_id}", err=True)
            raise typer.Exit(1) from None
        finally:
            opened.close()
        typer.echo(f"{user_id} -> {url}" + (f" ({waiting} waiting responses due now)"
                                            if waiting else ""))
