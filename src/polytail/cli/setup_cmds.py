"""Getting started: `polytail init` and `polytail keystore new`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from polytail.cli.common import fail, is_interactive

keystore_app = typer.Typer(help="Encrypted key storage.", no_args_is_help=True)


def init(
    path: Annotated[Path, typer.Argument(help="Where to write the starter config.")] = Path(
        "polytail.toml"
    ),
) -> None:
    """Write a commented starter config (never overwrites an existing file)."""
    from polytail.config.starter import STARTER_TOML  # noqa: PLC0415

    if path.exists():
        fail(f"{path} already exists; not overwriting it. Choose another path or remove it.")
    if not path.parent.exists():
        fail(f"directory {path.parent} does not exist; create it first")
    try:
        with path.open("x", encoding="utf-8") as handle:
            handle.write(STARTER_TOML)
    except OSError as error:
        fail(f"cannot write {path}: {error.strerror}")
    typer.echo(f"wrote {path}")
    typer.echo(f"next: edit it, then run `polytail config check {path}`")


@keystore_app.command("new")
def keystore_new(
    path: Annotated[Path, typer.Argument(help="Keystore file to create (JSON).")],
) -> None:
    """Encrypt a signing key into a keystore file (key and passphrase are asked for).

    The key is read from POLYTAIL_PRIVATE_KEY when set, otherwise from a hidden prompt;
    the passphrase from POLYTAIL_KEYSTORE_PASSPHRASE, otherwise a hidden prompt (twice).
    Then set wallet.keystore to this file and unset POLYTAIL_PRIVATE_KEY.
    """
    import json  # noqa: PLC0415

    from polytail.config.secrets import (  # noqa: PLC0415
        ENV_KEYSTORE_PASSPHRASE,
        ENV_PRIVATE_KEY,
        Secret,
        SecretError,
        address_of,
        encrypt_keystore,
        normalize_private_key,
    )

    if path.exists():
        fail(f"{path} already exists; not overwriting it")
    key = os.environ.get(ENV_PRIVATE_KEY, "")
    passphrase = os.environ.get(ENV_KEYSTORE_PASSPHRASE, "")
    if not key:
        if not is_interactive():
            fail(f"set {ENV_PRIVATE_KEY} or run in a terminal to type the key")
        key = typer.prompt("private key", hide_input=True)
    if not passphrase:
        if not is_interactive():
            fail(f"set {ENV_KEYSTORE_PASSPHRASE} or run in a terminal to type a passphrase")
        passphrase = typer.prompt("passphrase", hide_input=True, confirmation_prompt=True)
    if len(passphrase) < 8:
        fail("the passphrase must have at least 8 characters")
    try:
        normalized = normalize_private_key(key)
        document = encrypt_keystore(normalized, passphrase)
    except SecretError as error:
        fail(str(error))
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(document, handle)
    typer.echo(f"wrote {path} (mode 600) for address {address_of(Secret(normalized))}")
    typer.echo(f'next: set wallet.keystore = "{path}" and export {ENV_KEYSTORE_PASSPHRASE}')
