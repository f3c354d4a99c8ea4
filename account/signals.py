"""Signals the account app sends so that other apps can react; account imports none of them."""

from django.dispatch import Signal

# Sent with `user` when every session of the account was ended (`session_version` bumped). The bump
# is an UPDATE, which sends no post_save.
user_sessions_ended = Signal()

# Sent with `user` when the account's email is proven to be the user's: its verification link was
# clicked (sign-up, a changed email, a password reset link), and on every login of an account whose
# email is verified (password, OTP, social). Orders attaches the guest orders of that email.
user_email_confirmed = Signal()
