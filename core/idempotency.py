"""`Idempotency-Key` for mutating checkout and payment calls (SPEC.md section 4).

- missing header: 400 `idempotency_key_missing`;
- same key, same body: the first response is replayed (header `Idempotent-Replayed: true`);
- same key, another body: 422 `idempotency_key_reused`;
- same key while the first request still runs: we wait up to IDEMPOTENCY_WAIT_SECONDS for it to
  finish and replay it, then give up with 409 `idempotency_request_in_progress`.

The claim row is committed before the work starts (outside the view's transaction) so concurrent
requests see it; a 5xx or an exception releases the claim so the client may retry.

Keys are scoped to the caller: the user, or for an anonymous caller (guest checkout) the credential
it acts with, named by the view's `anonymous_subject` (e.g. `cart:<cart token>`). `private_fields`
are answered once and never stored, so a replay leaves them out (a guest's `order_token`).
"""

from __future__ import annotations

import functools
import hashlib
import json
import time
from collections.abc import Callable, Iterable
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from rest_framework.exceptions import NotAuthenticated
from rest_framework.response import Response

from .errors import Conflict, DomainError
from .models import IdempotencyKey

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
_POLL_SECONDS = 0.05


class IdempotencyKeyMissing(DomainError):
    code = "idempotency_key_missing"
    detail = f"The {HEADER} header is required for this request."


class IdempotencyKeyInvalid(DomainError):
    code = "idempotency_key_invalid"
    detail = f"The {HEADER} header must be 1 to {MAX_KEY_LENGTH} printable characters."


class IdempotencyKeyReused(DomainError):
    status_code = 422
    code = "idempotency_key_reused"
    detail = f"This {HEADER} was already used with a different request body."


class IdempotencyRequestInProgress(Conflict):
    code = "idempotency_request_in_progress"
    detail = f"A request with this {HEADER} is still being processed; retry shortly."


def request_fingerprint(request) -> str:
    body = json.dumps(request.data, sort_keys=True, default=str, separators=(",", ":"))
    raw = f"{request.method} {request.path}\n{body}"
    return hashlib.sha256(raw.encode()).hexdigest()


def idempotency_key_from(request) -> str:
    key = request.headers.get(HEADER, "").strip()
    if not key:
        raise IdempotencyKeyMissing()
    if len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise IdempotencyKeyInvalid()
    return key


def _claim(*, user, scope: str, key: str, fingerprint: str) -> tuple[IdempotencyKey | None, bool]:
    """Insert the claim row in its own committed transaction. Returns (row, True) when this request
    owns the key, (row, False) when another did first, (None, False) when that other claim vanished
    in between (its request failed): the caller tries again."""
    now = timezone.now()
    expired_before = now - timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)
    # A claim still "in progress" long after any request could run belongs to a killed worker.
    abandoned_before = now - timedelta(seconds=settings.IDEMPOTENCY_LEASE_SECONDS)
    try:
        with transaction.atomic():
            IdempotencyKey.objects.filter(user=user, scope=scope, key=key).filter(
                Q(created_at__lt=expired_before)
                | Q(status=IdempotencyKey.Status.IN_PROGRESS, created_at__lt=abandoned_before)
            ).delete()
            return IdempotencyKey.objects.create(user=user, scope=scope, key=key, fingerprint=fingerprint), True
    except IntegrityError:
        return IdempotencyKey.objects.filter(user=user, scope=scope, key=key).first(), False


def _wait_for_completion(record: IdempotencyKey) -> IdempotencyKey | None:
    deadline = time.monotonic() + settings.IDEMPOTENCY_WAIT_SECONDS
    while record.status == IdempotencyKey.Status.IN_PROGRESS:
        if time.monotonic() >= deadline:
            raise IdempotencyRequestInProgress()
        time.sleep(_POLL_SECONDS)
        record = IdempotencyKey.objects.filter(pk=record.pk).first()
        if record is None:  # the first request failed and released its claim
            return None
    return record


def _replay(record: IdempotencyKey) -> Response:
    return Response(record.response_body, status=record.response_status, headers={"Idempotent-Replayed": "true"})


def _caller_scope(request, scope: str, anonymous_subject: Callable | None) -> tuple[object | None, str]:
    user = request.user
    if user is not None and user.is_authenticated:
        return user, scope
    if anonymous_subject is None:
        raise NotAuthenticated()
    return None, f"{scope}:{anonymous_subject(request)}"[:100]


def _stored_body(data, private_fields: frozenset[str]):
    if private_fields and isinstance(data, dict):
        data = {name: value for name, value in data.items() if name not in private_fields}
    return json.loads(json.dumps(data, default=str))


def idempotent(scope: str, *, anonymous_subject: Callable | None = None, private_fields: Iterable[str] = ()):
    """Decorate a DRF view method (`def create(self, request, ...)`) to make it idempotent.

    `anonymous_subject(request) -> str` names what an anonymous caller's keys are scoped to (it
    raises when the request carries no such credential); without it only logged-in callers pass."""
    private = frozenset(private_fields)

    def decorator(view_method):
        @functools.wraps(view_method)
        def wrapper(self, request, *args, **kwargs):
            user, claim_scope = _caller_scope(request, scope, anonymous_subject)
            key = idempotency_key_from(request)
            fingerprint = request_fingerprint(request)
            for _attempt in range(3):
                record, claimed = _claim(user=user, scope=claim_scope, key=key, fingerprint=fingerprint)
                if claimed:
                    break
                if record is None:
                    continue
                if record.fingerprint != fingerprint:
                    raise IdempotencyKeyReused()
                finished = _wait_for_completion(record)
                if finished is not None:
                    return _replay(finished)
            else:
                raise IdempotencyRequestInProgress()

            try:
                response = view_method(self, request, *args, **kwargs)
            except DomainError as error:
                # A business refusal is a final answer for this key: store it so a retry replays it.
                response = self.handle_exception(error)
            except BaseException:
                record.delete()
                raise
            if response.status_code >= 500:
                record.delete()
                return response
            IdempotencyKey.objects.filter(pk=record.pk).update(
                status=IdempotencyKey.Status.COMPLETED,
                response_status=response.status_code,
                response_body=_stored_body(response.data, private),
                completed_at=timezone.now(),
            )
            return response

        return wrapper

    return decorator
