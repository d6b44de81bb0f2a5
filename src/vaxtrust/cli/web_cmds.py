"""``vaxtrust serve``: the web application (officers, citizens, verifiers) under uvicorn."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _paths(values: list[Path] | None) -> list[str] | None:
    return [str(path.resolve()) for path in values] if values else None


def serve_options(
    *, db: str | None, host: str | None, port: int | None, workers: int | None,
    trust_list: Path | None, revocation_list: Path | None, csca: list[Path] | None,
    insecure_unpinned: bool, journals: list[Path] | None, code_sender: str | None,
) -> dict[str, Any]:
    """The command's options as settings overrides (JSON-ready: every worker loads the same)."""
    web: dict[str, Any] = {
        "host": host, "port": port, "workers": workers,
        "trust_list": str(trust_list.resolve()) if trust_list else None,
        "revocation_list": str(revocation_list.resolve()) if revocation_list else None,
        "csca": _paths(csca), "journals": _paths(journals), "code_sender": code_sender,
        "insecure_unpinned": True if insecure_unpinned else None,
    }
    options: dict[str, Any] = {"web": {key: value for key, value in web.items()
                                       if value is not None}}
    if db:
        options["store"] = {"url": db}
    return options


def register(app: typer.Typer) -> None:
    """Add ``serve`` to ``app``."""

    @app.command("serve")
    def serve(
        db: Annotated[str | None, typer.Option("--db", help="Store URL (default: store.url, "
                      "$VAXTRUST_DATABASE_URL or sqlite:///vaxtrust.db).")] = None,
        host: Annotated[str | None, typer.Option("--host", help="Address to listen on "
                        "(default 127.0.0.1).")] = None,
        port: Annotated[int | None, typer.Option("--port", min=1, max=65535,
                        help="Port (default 8000).")] = None,
        workers: Annotated[int | None, typer.Option("--workers", min=1, max=64,
                           help="uvicorn worker processes (default 1).")] = None,
        trust_list: Annotated[Path | None, typer.Option(
            "--trust-list", help="Trust list JSON the verifier pages use and publish.")] = None,
        revocation_list: Annotated[Path | None, typer.Option(
            "--revocation-list", help="Revocation list JSON.")] = None,
        csca: Annotated[list[Path] | None, typer.Option(
            "--csca", help="Pinned CSCA certificate (PEM; repeatable).")] = None,
        insecure_unpinned: Annotated[bool, typer.Option(
            "--insecure-unpinned", help="Accept a trust list without a pinned CSCA.")] = False,
        journal: Annotated[list[Path] | None, typer.Option(
            "--journal", help="Issuance journal (sign-batch --out DIR/issuance.sqlite) with the "
            "certificates citizens download (repeatable).")] = None,
        code_sender: Annotated[str | None, typer.Option(
            "--code-sender", help="'console' (the log) or 'file:PATH' for one-time codes.")]
        = None,
        access_log: Annotated[bool, typer.Option(
            "--access-log/--no-access-log", help="Log every request (uvicorn's access log).")]
        = True,
        demo: Annotated[Path | None, typer.Option(
            "--demo", help="Serve a `vaxtrust demo` folder (made first when it does not "
            "exist), with its store, trust list, journal and demo accounts.")] = None,
    ) -> None:
        """Run the web application (pages and /api/v1) under uvicorn."""
        import uvicorn

        from vaxtrust.cli.settings import cli_settings, invocation
        from vaxtrust.web.app import SERVE_OPTIONS_ENV

        options = serve_options(
            db=db, host=host, port=port, workers=workers, trust_list=trust_list,
            revocation_list=revocation_list, csca=csca, insecure_unpinned=insecure_unpinned,
            journals=journal, code_sender=code_sender)
        if demo is not None:
            from vaxtrust.web.demo import prepare_demo

            prepared = prepare_demo(demo)
            options["store"] = {"url": prepared.database_url}
            options["web"].update(prepared.web_options())
            options["passport"] = prepared.passport_options()
            options["complaints"] = prepared.complaints_options()
        settings = cli_settings(**options)
        if settings.web.host in LOOPBACK:
            options["web"]["secure_cookies"] = False   # plain http on this machine only
        settings = cli_settings(**options)
        if demo is not None:
            from vaxtrust.demo.steps import DEMO_PASSPHRASE

            # the demo's own throw-away key: its passphrase is printed in the demo's code
            os.environ.setdefault(settings.passport.passphrase_env, DEMO_PASSPHRASE)
            for line in prepared.lines(settings.web.host, settings.web.port):
                typer.echo(line)
        if invocation.config is not None:
            os.environ["VAXTRUST_CONFIG"] = str(invocation.config.resolve())
        os.environ[SERVE_OPTIONS_ENV] = json.dumps(options)
        settings.open_store().close()        # migrate once, before the workers start
        typer.echo(f"vaxtrust web app on http://{settings.web.host}:{settings.web.port}/ "
                   "(Ctrl+C stops it)")
        uvicorn.run("vaxtrust.web.app:app_from_environment", factory=True,
                    host=settings.web.host, port=settings.web.port,
                    workers=settings.web.workers, server_header=False, log_level="info",
                    access_log=access_log)
