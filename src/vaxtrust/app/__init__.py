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
| :mod:`vaxtrust.app.users` | ``sign_in`` (who acts), ``add_user``, ``list_users`` |
| :mod:`vaxtrust.app.audit` | ``verify``, ``events``, ``history`` |
| :mod:`vaxtrust.app.records` | ``list_records``, ``authentication_list``, ``signing_tasks`` |
| :mod:`vaxtrust.app.demo` | ``run_demo``: generate → clean → evaluate → publish → sign |
| :mod:`vaxtrust.app.signing` | signing the store's queue (helper ``signing``) |
"""
