"""The ports a `fleet` command works on: the composition root's, or those its click context carries."""

from __future__ import annotations

import click

from lambda_platform.composition import Ports


def command_ports() -> Ports:
    """This command's ports: a `Ports` given as the click context's object (the unit tests'
    fakes), else the root's, built once for the command with no campaign cache (a command
    reads what it, or the one before it, just wrote)."""
    ctx = click.get_current_context()
    given = ctx.find_object(Ports)
    if given is not None:
        return given
    root = ctx.find_root()
    built = root.meta.get("fleet_ports")
    if built is None:
        built = root.meta["fleet_ports"] = Ports(campaign_cache_seconds=0)
    return built
