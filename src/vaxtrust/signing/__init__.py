"""Signing: the operational store's signing queue turned into vaccination certificates.

One path: people are queued in the store (by publish and by officers' decisions), a batch claims
them into an issuance journal, the store reserves each UVCI before it is signed and decides who
holds the one current certificate. ``vaxtrust.passport`` is the certificate library it uses.

* :mod:`~vaxtrust.signing.journal` — the issuance journal, where a signed certificate first exists.
* :mod:`~vaxtrust.signing.people` — who a certificate is for, read from the store.
* :mod:`~vaxtrust.signing.queue` — the store's queue, reservations and certificate states.
* :mod:`~vaxtrust.signing.batch` — the batch loop: claim, reserve, sign, tell the store, recover.
"""

CLAIM = 1024  # tasks claimed per chunk: a crash re-does at most this many, unseen; each chunk
# costs three commits (two store, one journal fsync), so fewer, larger chunks sign faster
