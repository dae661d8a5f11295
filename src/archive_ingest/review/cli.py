"""`archive-ingest users ...`: local accounts of the review UI."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import typer

from archive_ingest.catalogue import Catalogue
from archive_ingest.review.users import (
    UserError,
    add_user,
    list_users,
    set_active,
    set_password,
)
from archive_ingest.settings import get_settings

users_app = typer.Typer(help="Local user accounts of the review UI.", no_args_is_help=True)


def _password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


@contextmanager
def _catalogue() -> Iterator[Catalogue]:
    """The catalogue for one command; a ``UserError`` becomes ``error: ...`` and exit 2."""
    catalogue = Catalogue.open(get_settings().effective_database_url)
    try:
        yield catalogue
    except UserError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    finally:
        catalogue.close()


@users_app.command("add")
def add(
    name: str = typer.Argument(..., help="Login name"),
    role: str = typer.Option("archivist", "--role", help="archivist | admin"),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from the first line of stdin"
    ),
) -> None:
    """Create a user (the password is asked for, never taken from the command line)."""
    password = _password(password_stdin)
    with _catalogue() as catalogue:
        user = add_user(catalogue, name, role, password)
    typer.echo(f"user {user.name} ({user.role}) created")


@users_app.command("passwd")
def passwd(
    name: str,
    password_stdin: bool = typer.Option(False, "--password-stdin"),
) -> None:
    """Set a new password (signs the user out everywhere)."""
    password = _password(password_stdin)
    with _catalogue() as catalogue:
        set_password(catalogue, name, password)
    typer.echo(f"password of {name} changed")


@users_app.command("disable")
def disable(name: str) -> None:
    """Disable a user (and end their sessions)."""
    with _catalogue() as catalogue:
        set_active(catalogue, name, False)
    typer.echo(f"user {name} disabled")


@users_app.command("list")
def list_() -> None:
    """List users: name, role, active."""
    with _catalogue() as catalogue:
        for user, active in list_users(catalogue):
            typer.echo(f"{user.name}\t{user.role}\t{'active' if active else 'disabled'}")
