"""The operations every shell shares: the CLI, the web application and the daily runs.

Each operation is a function of the :class:`~vaxtrust.config.Settings` (or a part built from
them: a :class:`~vaxtrust.store.db.Store`, an engine) and, when it touches the store, the
:class:`~vaxtrust.store.scope.Actor` acting. It returns a typed result (a dataclass) and raises
only :class:`~vaxtrust.errors.VaxtrustError`; it never prints (progress goes to the
:class:`~vaxtrust.console.Console` it is given). A shell parses its input, calls the operation
and shows the result: nothing under ``vaxtrust.cli`` or ``vaxtrust.web`` holds logic another shell
would need.

| module | operations |
| --- | --- |
| :mod:`vaxtrust.app.clean` | ``clean``: input files → a run folder |
| :mod:`vaxtrust.app.publish` | ``publish``: a run folder → the store |
| :mod:`vaxtrust.app.review` | ``list_items``, ``show_item``, ``decide`` on the review queue |
| :mod:`vaxtrust.app.complaints` | ``import_file``, ``file_complaint``, ``list_complaints``, ``show_complaint``, ``assign``, ``escalate``, ``refuse``, ``resolve`` |
| :mod:`vaxtrust.app.users` | ``actor_named`` (who acts; signing in itself is :mod:`vaxtrust.store.auth`), ``add_user``, ``set_password``, ``deactivate_user``, ``issue_token``, ``list_tokens``, ``revoke_token``, ``list_users`` |
| :mod:`vaxtrust.app.audit` | ``verify``, ``events``, ``history`` |
| :mod:`vaxtrust.app.records` | ``list_records``, ``authentication_list``, ``signing_tasks`` |
| :mod:`vaxtrust.app.demo` | ``run_demo``: generate → clean → evaluate → publish → sign |
| :mod:`vaxtrust.app.signing` | ``sign`` the store's queue (publishing a run first), ``revoke``, ``revocations`` |
| :mod:`vaxtrust.app.reports` | ``progress``, ``write_progress``, ``take_snapshot``, ``save_campaign``, ``show_campaign``, ``facility_accountability``, ``write_accountability`` |
| :mod:`vaxtrust.app.daily` | ``daily``, ``watch_once``: each day's files cleaned, published and queued |
| :mod:`vaxtrust.app.register_changes` | ``register_changes``: re-verify the records of the people a register change touches |
| :mod:`vaxtrust.app.officers` | ``list_officers``, ``import_officers``, ``export_officers`` |
| :mod:`vaxtrust.app.police_lists` | ``export_lists``, ``import_list``, ``recent_imports``: the commune police lists |
"""
