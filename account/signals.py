"""Signals the account app sends so that other apps can react; account imports none of them."""

from django.dispatch import Signal

# Sent with `user` when every session of the account was ended (`session_version` bumped). The bump
# is an UPDATE, which sends no post_save.
user_sessions_ended = Signal()
