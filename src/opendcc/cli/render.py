"""Shared terminal rendering for the CLI: JSON-shaped values as rich trees."""

from __future__ import annotations

from typing import Any

from rich.markup import escape


def json_tree(label: str, value: Any, parent: Any) -> None:
    """Add a JSON value to a rich tree: dictionaries and lists as branches, scalars as leaves."""
    if isinstance(value, dict):
        node = parent.add(f"[bold]{escape(label)}[/bold]")
        for k, v in value.items():
            json_tree(str(k), v, node)
    elif isinstance(value, list):
        node = parent.add(f"[bold]{escape(label)}[/bold] [{len(value)}]")
        for i, v in enumerate(value):
            json_tree(f"[{i}]", v, node)
    else:
        parent.add(f"{escape(label)}: [cyan]{escape(str(value))}[/cyan]")
