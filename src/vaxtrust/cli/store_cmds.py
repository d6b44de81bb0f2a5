"""``vaxtrust publish | review | audit | users | records | signing | store``: the operational store.

Every command acts as a signed-in user (``--as USERNAME`` with their password, or their API token;
see :mod:`vaxtrust.cli.signin`) or in administrator mode (``--admin``) on the store at ``--db URL``
(else ``VAXTRUST_DATABASE_URL``, else ``sqlite:///vaxtrust.db``). The store is migrated to the
newest schema when opened.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from vaxtrust.cli.settings import cli_settings
from vaxtrust.cli.signin import ADMIN_OPTION, AS_OPTION, new_password, signed_in
from vaxtrust.console import styled, terminal
from vaxtrust.errors import ConfigError, StoreError

if TYPE_CHECKING:
    from vaxtrust.store.db import Store
    from vaxtrust.store.scope import Actor

review_app = typer.Typer(help="Hàng đợi rà soát / review queue: list, show, decide.",
                         no_args_is_help=True)
audit_app = typer.Typer(help="Nhật ký kiểm toán / audit trail: verify, log, history, "
                        "export-head, rekey.",
                        no_args_is_help=True)
users_app = typer.Typer(help="Người dùng / users, roles, passwords and API tokens.",
                        no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens for scripts ($VAXTRUST_TOKEN).", no_args_is_help=True)
users_app.add_typer(tokens_app, name="token")
records_app = typer.Typer(help="Bản ghi tiêm / dose records in your scope.", no_args_is_help=True)
signing_app = typer.Typer(help="Hàng đợi ký / the signing queue.", no_args_is_help=True)
store_app = typer.Typer(help="Kho dữ liệu / the store itself (migrations, PostgreSQL roles).",
                        no_args_is_help=True)

# Off a terminal (pipes, scripts) tables are drawn wide rather than cut at 80 columns.
out = terminal(soft_wrap=True, width=None if sys.stdout.isatty() else 240)

DB_OPTION = typer.Option(None, "--db", help="Store URL; setting store.url (default: "
                         "$VAXTRUST_DATABASE_URL or sqlite:///vaxtrust.db).")


def _open(db: str | None) -> Store:
    return cli_settings(store={"url": db}).open_store()


def _signed_in(db: str | None, actor_name: str | None, admin: bool) -> tuple[Store, Actor]:
    """The store and the user acting on it, after checking their credentials."""
    store = _open(db)
    return store, signed_in(store, actor_name, admin)


def _check_choice(option: str, given: list[str], allowed: tuple[str, ...]) -> None:
    unknown = [value for value in given if value not in allowed]
    if unknown:
        raise ConfigError(f"{option} {', '.join(unknown)}: use {', '.join(allowed)}")


def _table(title: str, columns: list[str], rows: list[list[object]]) -> Table:
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("" if value is None else str(value) for value in row))
    return table


# ---------------------------------------------------------------- publish

def publish(
    run_dir: Annotated[Path, typer.Argument(help="A cleaning run folder (vaxtrust clean --out).")],
    actor_name: str | None = AS_OPTION,
    admin: bool = ADMIN_OPTION,
    facilities: Annotated[Path | None, typer.Option(
        "--facilities", help="CSV/Parquet of facility_id, name, province_code to register.")]
    = None,
    db: str | None = DB_OPTION,
) -> None:
    """Load a cleaning run into the store (idempotent; a newer run keeps decisions made).

    Reads only the run folder: the original input files are not needed.
    """
    from vaxtrust.app.publish import publish as publish_run
    from vaxtrust.console import RichConsole

    store, actor = _signed_in(db, actor_name, admin)
    with RichConsole() as console:
        report = publish_run(store, actor, run_dir, facilities=facilities, console=console)
    if report.already_published:
        out.print(f"run {report.run_id} was published before: nothing changed")
        return
    out.print(_table(f"published run {report.run_id}", ["what", "count"], [
        ["records in run", report.records], ["new records", report.new_records],
        ["updated records", report.updated_records],
        ["kept (decided by an officer)", report.kept_decisions],
        ["review items opened", report.review_items],
        ["review items superseded", report.superseded_items],
        ["corrections", report.corrections], ["queued for signing", report.signing_queued],
    ]))


# ---------------------------------------------------------------- review

@review_app.command("list")
def review_list(
    actor_name: str | None = AS_OPTION,
    admin: bool = ADMIN_OPTION,
    province: str | None = typer.Option(None, "--province", help="Province code."),
    facility: str | None = typer.Option(None, "--facility", help="Facility id."),
    reason: str | None = typer.Option(None, "--reason", help="Reason code, e.g. dob_year_typo."),
    state: Annotated[list[str] | None, typer.Option(
        "--state", help="open, deferred, decided or superseded (repeatable; default: open and "
        "deferred).")] = None,
    page: int = typer.Option(1, "--page", min=1),
    page_size: int = typer.Option(50, "--page-size", min=1, max=1000),
    db: str | None = DB_OPTION,
) -> None:
    """Items waiting for a decision in your scope."""
    from vaxtrust.app.review import AWAITING, ItemFilter, list_items
    from vaxtrust.store.tables import REVIEW_STATES

    _check_choice("--state", state or [], REVIEW_STATES)
    query = ItemFilter(province_code=province, facility_id=facility, reason=reason,
                       states=tuple(state or AWAITING), page=page, page_size=page_size)
    result = list_items(*_signed_in(db, actor_name, admin), query)
    out.print(_table(
        f"review items: page {result.page}/{result.pages}, {result.total} in all",
        ["item", "version", "record", "province", "facility", "state", "candidates", "reasons"],
        [[i.id, i.version, i.record_id, i.province_code, i.facility_id, i.state, i.candidates,
          ", ".join(i.reasons)] for i in result.items],
    ))


@review_app.command("show")
def review_show(
    item_id: int = typer.Argument(..., help="Review item number."),
    actor_name: str | None = AS_OPTION,
    admin: bool = ADMIN_OPTION,
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
    db: str | None = DB_OPTION,
) -> None:
    """One item: the record (original and current) and its ranked register candidates."""
    from dataclasses import asdict

    from vaxtrust.app.review import show_item

    detail = show_item(*_signed_in(db, actor_name, admin), item_id)
    if as_json:
        out.print_json(json.dumps(asdict(detail), ensure_ascii=False))
        return
    item = detail.item
    out.print(f"item {item.id} (version {item.version}, {item.state}) record {item.record_id} "
              f"facility {item.facility_id}, province {item.province_code}; "
              f"reasons: {', '.join(item.reasons) or '-'}" + (f"; note: {detail.note}"
                                                              if detail.note else ""))
    out.print(_table("record", ["field", "original", "current"], [
        [name, detail.original[name], detail.current[name]] for name in detail.original]))
    for candidate in detail.candidates:
        rows: list[list[object]] = [
            [name, diff.get("record"), diff.get("register"), diff.get("verdict")]
            for name, diff in candidate.differences.items() if isinstance(diff, dict)]
        out.print(_table(
            f"candidate {candidate.rank}: person {candidate.person_id}, "
            f"p={candidate.match_probability}; register: {candidate.register['full_name']}, "
            f"{candidate.register['dob']}, {candidate.register['gender']}",
            ["field", "record", "register", "verdict"], rows))


def _parse_edits(edits: list[str]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for edit in edits:
        name, sep, value = edit.partition("=")
        if not sep or not name.strip():
            raise ConfigError(f"--edit {edit!r}: write FIELD=VALUE, e.g. dob=1970-11-30")
        fields[name.strip()] = value
    return fields


@review_app.command("decide")
def review_decide(
    item_id: int = typer.Argument(..., help="Review item number."),
    actor_name: str | None = AS_OPTION,
    admin: bool = ADMIN_OPTION,
    accept: int | None = typer.Option(None, "--accept", help="Accept the candidate of RANK."),
    reject_all: bool = typer.Option(False, "--reject-all", help="None of the candidates."),
    edit: Annotated[list[str] | None, typer.Option(
        "--edit", help="FIELD=VALUE (repeatable); checked against the register before it is "
        "accepted.")] = None,
    defer: bool = typer.Option(False, "--defer", help="Leave it open with a --note."),
    person: str | None = typer.Option(None, "--person", help="Register person an edit claims."),
    note: str | None = typer.Option(None, "--note", help="Why (needed except for --accept)."),
    version: int | None = typer.Option(None, "--version", help="The version you saw in "
                                       "`review show`; refused if someone changed it since."),
    db: str | None = DB_OPTION,
) -> None:
    """Decide an item: --accept RANK, --reject-all, --edit FIELD=VALUE or --defer."""
    from vaxtrust.app.review import AcceptCandidate, Defer, EditFields, RejectAll, decide

    chosen = [name for name, on in (("--accept", accept is not None), ("--reject-all", reject_all),
                                    ("--edit", bool(edit)), ("--defer", defer)) if on]
    if len(chosen) != 1:
        raise ConfigError("choose exactly one of --accept RANK, --reject-all, --edit, --defer"
                          + (f" (got {', '.join(chosen)})" if chosen else ""))
    if person and not edit:
        raise ConfigError("--person goes with --edit")
    decision: AcceptCandidate | RejectAll | EditFields | Defer
    if accept is not None:
        decision = AcceptCandidate(accept, note)
    elif reject_all:
        decision = RejectAll(note or "")
    elif edit:
        decision = EditFields(_parse_edits(edit), note or "", person)
    else:
        decision = Defer(note or "")
    result = decide(*_signed_in(db, actor_name, admin), item_id, decision,
                    expected_version=version)
    queued = ", ".join(result.signing_queued) or "nobody new"
    out.print(f"item {result.item_id}: {result.kind} recorded (decision {result.decision_id}); "
              f"record {result.record_id} → {result.person_id or 'no person'}; "
              f"{result.corrections} corrections; queued for signing: {queued}")


# ---------------------------------------------------------------- audit

@audit_app.command("verify")
def audit_verify(actor_name: str | None = AS_OPTION, admin: bool = ADMIN_OPTION,
                 db: str | None = DB_OPTION) -> None:
    """Prove the audit chain intact (keyed hashes, decisions and corrections, the newest signed
    head export), or name every edited, deleted or added row."""
    from vaxtrust.app.audit import verify

    result = verify(*_signed_in(db, actor_name, admin))
    report = result.chain
    if not report.intact:
        for problem in report.problems:
            out.print(styled("[red]{}[/]", problem))
        raise StoreError(f"audit chain broken in {len(report.problems)} place(s) "
                         f"over {report.rows} rows")
    against = (f"; holds the head exported {result.head.exported_at} ({result.head.rows} rows)"
               if result.head else "; no head export to check against yet")
    out.print(f"audit chain intact: {report.rows} rows, head hash {report.head_hash}{against}")


@audit_app.command("export-head")
def audit_export_head(actor_name: str | None = AS_OPTION, admin: bool = ADMIN_OPTION,
                      db: str | None = DB_OPTION) -> None:
    """Verify the chain, then export its signed head (rows, newest hash) to the head folder;
    keep copies where the database's administrators cannot write."""
    from vaxtrust.app.audit import export_head

    head = export_head(*_signed_in(db, actor_name, admin))
    out.print(f"audit head exported: {head.rows} rows, head hash {head.head_hash} → {head.path}",
              markup=False)


@audit_app.command("rekey")
def audit_rekey(
    admin: bool = ADMIN_OPTION, db: str | None = DB_OPTION,
    previous_key_file: Annotated[Path | None, typer.Option(
        "--previous-key-file", help="Rotate the key: the retired key's file (0600); the chain "
        "must verify with it before it is re-hashed with the configured (new) key.")] = None,
) -> None:
    """Re-hash the chain with the audit key (administrator mode): a chain made before the key
    existed, or a key rotation (--previous-key-file)."""
    from vaxtrust.app.audit import rekey

    head = rekey(*_signed_in(db, None, admin), previous_key_file=previous_key_file)
    out.print(f"audit chain rekeyed: {head.rows} rows, head hash {head.head_hash} → {head.path}",
              markup=False)


@audit_app.command("log")
def audit_log(
    actor_name: str | None = AS_OPTION,
    admin: bool = ADMIN_OPTION,
    subject: str | None = typer.Option(None, "--subject", help="e.g. record:R1, person:0010..."),
    limit: int = typer.Option(50, "--limit", min=1, max=10_000),
    db: str | None = DB_OPTION,
) -> None:
    """The newest audit events (or all of one subject's)."""
    from vaxtrust.app.audit import events

    rows = events(*_signed_in(db, actor_name, admin), subject=subject, limit=limit)
    out.print(_table("audit events (newest first)",
                     ["seq", "time", "type", "actor", "subject", "payload"],
                     [[r.seq, r.occurred_at, r.event_type, r.actor, r.subject_id, r.payload]
                      for r in rows]))


@audit_app.command("history")
def audit_history(
    record_id: str = typer.Argument(..., help="A dose record id."),
    actor_name: str | None = AS_OPTION,
    admin: bool = ADMIN_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Every value a record ever had, who gave it and why."""
    from vaxtrust.app.audit import history as record_history

    history = record_history(*_signed_in(db, actor_name, admin), record_id)
    out.print(_table(f"history of record {record_id}", ["field", "value", "by", "why", "when"],
                     [[h.field, h.value, h.actor, h.reason, h.at] for h in history]))


# ---------------------------------------------------------------- users

@users_app.command("add")
def users_add(
    username: str = typer.Argument(..., help="Login name (lower case)."),
    role: str = typer.Option(..., "--role", help="ministry, province, facility, "
                             "commune_police or citizen."),
    province: str | None = typer.Option(None, "--province", help="Province code (province; "
                                        "or a new facility's province)."),
    facility: str | None = typer.Option(None, "--facility", help="Facility id (facility)."),
    commune: str | None = typer.Option(None, "--commune", help="Commune code (commune_police)."),
    person: str | None = typer.Option(None, "--person", help="Register person id (citizen)."),
    name: str | None = typer.Option(None, "--name", help="Display name."),
    generate_password: bool = typer.Option(
        False, "--generate-password", help="Make up a strong password and print it once."),
    actor_name: str | None = AS_OPTION,
    admin: bool = ADMIN_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Create a user with a role, its scope and a password (--admin for the first user).

    The new password comes from $VAXTRUST_NEW_PASSWORD, --generate-password, or a prompt.
    """
    from vaxtrust.app.users import NewUser, add_user

    password = new_password(username, generate_password)
    user = add_user(*_signed_in(db, actor_name, admin), NewUser(
        username=username, role=role, display_name=name, province_code=province,
        facility_id=facility, commune_code=commune, person_id=person), password=password)
    out.print(f"user {user.username} added: {user.role}")
    if generate_password:
        out.print(f"password of {username} (shown once): {password}", markup=False)


@users_app.command("passwd")
def users_passwd(
    username: str = typer.Argument(..., help="Whose password to set."),
    generate_password: bool = typer.Option(
        False, "--generate-password", help="Make up a strong password and print it once."),
    actor_name: str | None = AS_OPTION,
    admin: bool = ADMIN_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Change your own password (signed in with the current one), or set one of a user you
    manage. The new password comes from $VAXTRUST_NEW_PASSWORD, --generate-password or a prompt.
    """
    from vaxtrust.app.users import set_password
    from vaxtrust.cli.signin import TOKEN_ENV

    if not admin and not actor_name and not os.environ.get(TOKEN_ENV):
        actor_name = username
    store, actor = _signed_in(db, actor_name, admin)
    password = new_password(username, generate_password)
    set_password(store, actor, username, password)
    out.print(f"password of {username} changed")
    if generate_password:
        out.print(f"password of {username} (shown once): {password}", markup=False)


@users_app.command("deactivate")
def users_deactivate(
    username: str = typer.Argument(..., help="The user to deactivate."),
    reason: str = typer.Option(..., "--reason", help="Why (kept in the audit trail)."),
    actor_name: str | None = AS_OPTION,
    admin: bool = ADMIN_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Stop a user from signing in and revoke their API tokens (their history stays)."""
    from vaxtrust.app.users import deactivate_user

    revoked = deactivate_user(*_signed_in(db, actor_name, admin), username, reason)
    out.print(f"user {username} deactivated; {revoked} API token(s) revoked")


@tokens_app.command("issue")
def tokens_issue(
    name: str = typer.Option(..., "--name", help="What the token is for (a script's name)."),
    days: int = typer.Option(30, "--days", min=1, max=365, help="Days until it expires."),
    actor_name: str | None = AS_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Issue yourself an API token for scripts (set it as $VAXTRUST_TOKEN); shown once."""
    from datetime import timedelta

    from vaxtrust.app.users import issue_token

    token = issue_token(*_signed_in(db, actor_name, False), name, timedelta(days=days))
    out.print(f"token {token.id} ({token.name}), expires {token.expires_at}", markup=False)
    out.print(f"VAXTRUST_TOKEN={token.secret}", markup=False)


@tokens_app.command("list")
def tokens_list(actor_name: str | None = AS_OPTION, db: str | None = DB_OPTION) -> None:
    """Your API tokens (never their text)."""
    from vaxtrust.app.users import list_tokens

    rows: list[list[object]] = [
        [t.id, t.name, t.created_at, t.expires_at, t.revoked_at or "", t.last_used_at or ""]
        for t in list_tokens(*_signed_in(db, actor_name, False))]
    out.print(_table("API tokens", ["token", "name", "created", "expires", "revoked",
                                    "last used"], rows))


@tokens_app.command("revoke")
def tokens_revoke(
    token_id: int = typer.Argument(..., help="The token number (see `users token list`)."),
    actor_name: str | None = AS_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Revoke one of your API tokens."""
    from vaxtrust.app.users import revoke_token

    revoke_token(*_signed_in(db, actor_name, False), token_id)
    out.print(f"token {token_id} revoked")


@users_app.command("list")
def users_list(actor_name: str | None = AS_OPTION, admin: bool = ADMIN_OPTION,
               db: str | None = DB_OPTION) -> None:
    """All users with their role and scope."""
    from vaxtrust.app.users import list_users

    rows: list[list[object]] = [[u.username, u.role, u.scope, "yes" if u.active else "no"]
                                for u in list_users(*_signed_in(db, actor_name, admin))]
    out.print(_table("users", ["username", "role", "scope", "active"], rows))


# ---------------------------------------------------------------- records and signing

@records_app.command("list")
def records_list(
    actor_name: str | None = AS_OPTION,
    admin: bool = ADMIN_OPTION,
    status: str | None = typer.Option(None, "--status", help="verified, corrected, review, "
                                      "unmatched or rejected."),
    facility: str | None = typer.Option(None, "--facility", help="Facility id."),
    page: int = typer.Option(1, "--page", min=1),
    page_size: int = typer.Option(50, "--page-size", min=1, max=1000),
    db: str | None = DB_OPTION,
) -> None:
    """Dose records in your scope (a citizen: their own)."""
    from vaxtrust.app.records import list_records
    from vaxtrust.store.tables import RECORD_STATUSES

    _check_choice("--status", [status] if status else [], RECORD_STATUSES)
    result = list_records(*_signed_in(db, actor_name, admin), status=status, facility_id=facility,
                          page=page, page_size=page_size)
    rows: list[list[object]] = [[r.record_id, r.facility_id, r.full_name, r.dob, r.gender,
                                 r.id_number, r.status, r.person_id] for r in result.items]
    out.print(_table(f"records: page {result.page}/{result.pages}, {result.total} in all",
                     ["record", "facility", "name", "dob", "gender", "id", "status", "person"],
                     rows))


@records_app.command("authentication-list")
def records_authentication_list(
    actor_name: str | None = AS_OPTION,
    admin: bool = ADMIN_OPTION,
    page: int = typer.Option(1, "--page", min=1),
    page_size: int = typer.Option(50, "--page-size", min=1, max=1000),
    db: str | None = DB_OPTION,
) -> None:
    """Records still to authenticate against the register (commune police: their commune)."""
    from vaxtrust.app.records import authentication_list

    result = authentication_list(*_signed_in(db, actor_name, admin), page=page,
                                 page_size=page_size)
    rows: list[list[object]] = [[r.record_id, r.commune_code, r.full_name, r.dob, r.gender,
                                 r.id_number, r.status] for r in result.items]
    out.print(_table(f"authentication list: page {result.page}/{result.pages}, "
                     f"{result.total} in all",
                     ["record", "commune", "name", "dob", "gender", "id", "status"], rows))


@signing_app.command("list")
def signing_list(
    actor_name: str | None = AS_OPTION,
    admin: bool = ADMIN_OPTION,
    state: str | None = typer.Option("pending", "--state", help="pending, claimed, done, failed"),
    limit: int = typer.Option(100, "--limit", min=1, max=10_000),
    db: str | None = DB_OPTION,
) -> None:
    """People waiting to be signed (or re-signed) in your scope."""
    from vaxtrust.app.records import signing_tasks

    tasks = signing_tasks(*_signed_in(db, actor_name, admin), state=state, limit=limit)
    rows: list[list[object]] = [[t.id, t.person_id, t.action, t.state, t.reason, t.created_at]
                                for t in tasks]
    out.print(_table("signing queue", ["task", "person", "action", "state", "reason", "queued"],
                     rows))


@store_app.command("upgrade")
def store_upgrade(
    app_role: str | None = typer.Option(
        None, "--app-role", help="PostgreSQL: then grant this role the application's rights "
        "(as `store grant`)."),
    db: str | None = DB_OPTION,
) -> None:
    """Create the store or migrate it to the newest schema (PostgreSQL: as the tables' owner)."""
    store = _open(db)
    out.print(f"store at {store.engine.url!r} is at the newest schema")
    if app_role:
        store_grant(app_role, db)


@store_app.command("grant")
def store_grant(
    role: str = typer.Argument(..., help="The PostgreSQL role the application connects as."),
    db: str | None = DB_OPTION,
) -> None:
    """PostgreSQL: give the application's role its rights and no more (run as the tables'
    owner after every upgrade): no UPDATE or DELETE on the audit trail, decisions and
    corrections, and no right to drop a trigger."""
    from vaxtrust.store.roles import grant_app_role

    store = _open(db)
    statements = grant_app_role(store.engine, role)
    out.print(f"role {role}: {len(statements)} grants on {store.engine.url!r}", markup=False)


def register(app: typer.Typer) -> None:
    """Add the store's commands to ``app``."""
    app.command("publish")(publish)
    app.add_typer(review_app, name="review")
    app.add_typer(audit_app, name="audit")
    app.add_typer(users_app, name="users")
    app.add_typer(records_app, name="records")
    app.add_typer(signing_app, name="signing")
    app.add_typer(store_app, name="store")
