"""The `cf-v1-proxy` command (and `python -m proxy`): options come from `proxy.settings`."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import httpx
from starlette.applications import Starlette

from proxy import settings as settings_module
from proxy.credentials import CredentialsFileError, credentials_line
from proxy.mapping import MappingError, MappingTable, load
from proxy.settings import OPTIONS, Settings, SettingsError

log = logging.getLogger("proxy.cli")

# The sandbox is called in-process; its routes are relative to /client/v4.
SANDBOX_BASE = "http://sandbox.invalid"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cf-v1-proxy",
        description="Serve Cloudflare API v1 calls by translating them to API v4.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser(
        "serve",
        help="run the proxy",
        description="Run the proxy. Every option can also be set as an environment variable "
        "CF_V1_PROXY_<OPTION> (upper case, dashes as underscores); the command line wins.",
    )
    for option in OPTIONS:
        flag = f"--{option.name}"
        text = option.help_text
        if option.kind == "switch":
            serve.add_argument(flag, action="store_true", default=None, help=text)
        elif option.kind == "optional_path":
            serve.add_argument(flag, nargs="?", const="", default=None, metavar="SEED.json",
                               help=text)
        else:
            serve.add_argument(flag, default=None, metavar=option.attr.upper(),
                               choices=option.choices or None, help=text)
    serve.set_defaults(command_parser=serve)
    _add_translate(commands)
    hash_key = commands.add_parser(
        "hash-key",
        help="print a --v1-credentials line for EMAIL and the key read from standard input",
        description="Read a v1 key from standard input (prompting on a terminal) and print "
        "the line that accepts EMAIL with that key in token mode's --v1-credentials file.",
    )
    hash_key.add_argument("email", metavar="EMAIL")
    return parser


# The options that change what a call becomes; the rest only concern serving.
TRANSLATE_OPTIONS = ("upstream", "mappings", "rec-new-service-mode", "rec-page-size",
                     "access-rules-scope", "echo-token")


def _add_translate(commands: Any) -> None:
    translate = commands.add_parser(
        "translate",
        help="print the v4 requests a v1 call becomes, as curl commands, without sending them",
        description="Print the v4 requests a v1 call becomes, as curl commands that read "
        "$CF_EMAIL and $CF_KEY (or $CF_API_TOKEN) from the shell. Nothing is sent unless "
        "credentials are given (--email/--key or --token, or those variables): then reads go "
        "to the upstream to find the real ids, and writes are still only printed. Exit 0 "
        "when the call becomes v4 requests, 1 when it is retired, unknown or answered with a "
        "v1 error.",
    )
    translate.add_argument("call", metavar="CALL",
                           help="the v1 call as a query string, e.g. 'a=rec_edit&z=example.com"
                           "&id=…&type=A&name=home&content=192.0.2.1', or a whole URL")
    for option in OPTIONS:
        if option.name in TRANSLATE_OPTIONS:
            text = option.help_text
            if option.kind == "switch":
                translate.add_argument(f"--{option.name}", action="store_true", default=None,
                                       help=text)
            else:
                translate.add_argument(f"--{option.name}", default=None,
                                       metavar=option.attr.upper(),
                                       choices=option.choices or None, help=text)
    translate.add_argument("--email", help="read the upstream as this account (env CF_EMAIL)")
    translate.add_argument("--key", help="its Global API key (env CF_KEY; prefer the variable: "
                           "a flag shows in the process list)")
    translate.add_argument("--token", help="read the upstream with this API token instead "
                           "(env CF_API_TOKEN)")
    translate.set_defaults(command_parser=translate)
    translate.add_argument("--offline", action="store_true",
                           help="placeholder ids even when credentials are in the environment")
    translate.add_argument("--bearer", action="store_true",
                           help="print Authorization: Bearer $CF_API_TOKEN headers")
    translate.add_argument("--answer", action="store_true",
                           help="print the v1 answer the client would get, too")


def resolve_settings(args: argparse.Namespace, environ: dict[str, str] | None = None) -> Settings:
    """Default < environment < command line."""
    given: dict[str, Any] = settings_module.from_environment(environ)
    for option in OPTIONS:
        raw = getattr(args, option.attr, None)
        if raw is None:
            continue
        if option.kind in ("switch",) or option.kind == "optional_path":
            given[option.attr] = raw if option.kind == "optional_path" else True
        else:
            given[option.attr] = settings_module.coerce(option, str(raw))
    return settings_module.build(**given)


def assemble(
    settings: Settings,
    table: MappingTable,
    *,
    wrap_transport: Callable[[httpx.AsyncBaseTransport], httpx.AsyncBaseTransport] | None = None,
) -> Starlette:
    """The app `serve` runs: with `--sandbox`, the sandbox mounted and used as the upstream.

    This is the only place that joins the engine and the sandbox; tests assemble the app
    here too, so they run exactly what users run. `wrap_transport` lets a test watch every
    v4 request on its way to the sandbox.
    """
    from starlette.routing import Mount

    from proxy.app import create_app

    if settings.sandbox is None:
        return create_app(settings, table=table)

    from proxy.sandbox import create_sandbox_app, demo_seed, load_seed

    seed = load_seed(settings.sandbox) if settings.sandbox else demo_seed()
    sandbox = create_sandbox_app(seed)
    transport: httpx.AsyncBaseTransport = httpx.ASGITransport(app=sandbox)
    if wrap_transport is not None:
        transport = wrap_transport(transport)
    settings = replace(settings, upstream=SANDBOX_BASE)
    app = create_app(
        settings, table=table, transport=transport,
        extra_routes=[Mount("/client/v4", app=sandbox)],
    )
    app.state.sandbox_seed = seed
    return app


def serve(settings: Settings) -> int:
    from proxy import server
    from proxy.logs import setup_logging
    from proxy.sandbox import SeedError

    setup_logging(settings)
    try:
        server.check_tls(settings)
    except server.TLSFilesError as exc:
        print(f"cf-v1-proxy: bad TLS certificate or key: {exc}", file=sys.stderr)
        return 2
    try:
        table = load([settings.mappings] if settings.mappings else [])
        app = assemble(settings, table)
    except CredentialsFileError as exc:
        print(f"cf-v1-proxy: bad token mode settings: {exc}", file=sys.stderr)
        return 2
    except MappingError as exc:
        print(f"cf-v1-proxy: bad mapping table: {exc}", file=sys.stderr)
        return 2
    except (OSError, SeedError) as exc:
        print(f"cf-v1-proxy: bad sandbox seed: {exc}", file=sys.stderr)
        return 2

    if settings.sandbox == "":
        _show_demo_credentials(app.state.sandbox_seed)
    where = "the embedded sandbox at /client/v4" if settings.sandbox is not None else (
        settings.upstream)
    log.info("cf-v1-proxy: upstream %s; %d actions mapped", where, len(table.mapped))
    if settings.workers > 1:
        # Each worker builds its own app; the one above only checked the settings.
        from proxy import workers

        workers.run(settings)
    else:
        server.run(app, settings)
    return 0


def _show_demo_credentials(seed: dict[str, Any]) -> None:
    """Once, on standard output, never through the logger (logs must hold no secrets)."""
    user = seed["users"][0]
    zones = ", ".join(zone["name"] for zone in user.get("zones", []))
    token = f"\n  v4 token (for --v4-token)={user['token']}" if user.get("token") else ""
    print(
        "cf-v1-proxy sandbox demo account (test data only):\n"
        f"  email={user['email']}\n  tkn={user['key']}{token}\n  zones: {zones}",
        flush=True,
    )


def translate_command(args: argparse.Namespace, settings: Settings) -> int:
    import os

    from proxy.translate import run

    try:
        table = load([settings.mappings] if settings.mappings else [])
    except MappingError as exc:
        print(f"cf-v1-proxy: bad mapping table: {exc}", file=sys.stderr)
        return 2
    env = {} if args.offline else os.environ
    email, key, token = (None, None, None) if args.offline else (args.email, args.key, args.token)
    return run(
        args.call, settings, table, sys.stdout,
        email=email or env.get("CF_EMAIL"), key=key or env.get("CF_KEY"),
        token=token or env.get("CF_API_TOKEN"), bearer=args.bearer, answer=args.answer,
    )


def hash_key_command(email: str) -> int:
    """The key comes from standard input, never the command line (the process list)."""
    import getpass

    key = getpass.getpass("v1 key: ") if sys.stdin.isatty() else sys.stdin.readline()
    try:
        print(credentials_line(email, key.strip()))
    except CredentialsFileError as exc:
        print(f"cf-v1-proxy: {exc}", file=sys.stderr)
        return 2
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "hash-key":
        return hash_key_command(args.email)
    try:
        settings = resolve_settings(args)
    except SettingsError as exc:
        args.command_parser.error(str(exc))  # with the usage of the command that was run
    if args.command == "serve":
        return serve(settings)
    if args.command == "translate":
        return translate_command(args, settings)
    return 2  # pragma: no cover - argparse rejects other commands


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
