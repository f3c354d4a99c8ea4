"""Telling a user's open sockets that their account changed: staff rights removed, the account
deactivated, or every session ended (`session_version` bumped). Each socket joins the group
`events.user_group(user)` and closes itself when the rights it was admitted with no longer hold, so
an idle agent socket stops receiving the room at once. The consumers also re-read the rights on each
frame that acts as an agent (chat/consumers.py), which covers changes made without a save (a bare
queryset UPDATE of is_staff or is_active sends no signal).

Connected in ChatConfig.ready()."""

from __future__ import annotations

from functools import partial
from uuid import UUID

from django.db import transaction

from . import events, selectors

_WATCHED = ("is_staff", "is_active", "session_version")
_SNAPSHOT = "_chat_access_snapshot"


def _snapshot(user) -> tuple:
    # From __dict__, not getattr: a field deferred by .only() must not cost a query per loaded user.
    return tuple(user.__dict__.get(name) for name in _WATCHED)


def _publish_access(user_id: UUID) -> None:
    # The state read after commit, not the instance's: the instance may be stale, the row is not.
    events.publish_user_access(user_id=user_id, rights=selectors.user_socket_rights(user_id=user_id))


def _publish_after_commit(user_id: UUID) -> None:
    transaction.on_commit(partial(_publish_access, user_id), robust=True)


def user_loaded(sender, instance, **kwargs) -> None:
    setattr(instance, _SNAPSHOT, _snapshot(instance))


def user_saved(sender, instance, created: bool, raw: bool = False, update_fields=None, **kwargs) -> None:
    if update_fields is not None and not set(_WATCHED) & set(update_fields):
        return  # e.g. last_login on every login: nothing watched was written
    before, after = getattr(instance, _SNAPSHOT, None), _snapshot(instance)
    if after == before:
        return  # the usual save: nothing watched changed, nothing queued
    # Remembered once committed: a rolled-back save leaves nothing new to compare the next one with.
    transaction.on_commit(partial(setattr, instance, _SNAPSHOT, after))
    if created or raw or before is None:
        return
    # A field unknown before (deferred when loaded) is no evidence of a change.
    if any(old is not None and old != new for old, new in zip(before, after, strict=True)):
        _publish_after_commit(instance.pk)


def user_sessions_ended(sender, user, **kwargs) -> None:
    _publish_after_commit(user.pk)
