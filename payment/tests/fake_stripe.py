"""A small local Stripe for the tests: Stripe's own library talks to it over HTTP (STRIPE_API_BASE).

It implements what the shop uses - PaymentIntents (create, cancel) and refunds - with Stripe's
idempotency rule (the same Idempotency-Key answers the first response; other parameters are a 400
idempotency_error), records every request, and can be told to fail or to answer too slowly. It also
builds and signs webhook events exactly as Stripe does: `Stripe-Signature: t=<ts>,v1=<hex HMAC-SHA256
of "<ts>.<payload>" keyed with the endpoint secret>`.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

SECRET_KEY = "sk_test_fake_shop_key"
WEBHOOK_SECRET = "whsec_test_fake_shop_secret"


def _nested(form: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's form encoding (`metadata[order_id]=...`) back into nested dicts."""
    result: dict[str, Any] = {}
    for raw_key, value in form:
        parts = re.findall(r"[^\[\]]+", raw_key)
        target = result
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = value
    return result


@dataclass
class RecordedRequest:
    method: str
    path: str
    params: dict[str, Any]
    idempotency_key: str | None
    authorization: str | None


@dataclass
class FakeStripe:
    server: HTTPServer
    intents: dict[str, dict] = field(default_factory=dict)
    refunds: dict[str, dict] = field(default_factory=dict)
    requests: list[RecordedRequest] = field(default_factory=list)
    # (http status, error body) answered to every API call while set.
    failure: tuple[int, dict] | None = None
    # Seconds to sleep before answering (the work is done first, like a reply lost on the way back).
    delay_seconds: float = 0
    refund_status: str = "succeeded"
    # Called with the request (in the server's thread) before Stripe answers: lets a test look at
    # the shop's database while the shop is waiting for Stripe.
    on_request: Callable[[Request], None] | None = None
    _idempotent: dict[str, tuple[dict, int, dict]] = field(default_factory=dict)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.server.expect_request(re.compile(r"^/v1/.*")).respond_with_handler(self._handle)

    @property
    def api_base(self) -> str:
        return self.server.url_for("").rstrip("/")

    # --- the HTTP side ----------------------------------------------------------------------------

    def _handle(self, request: Request) -> Response:
        params = _nested(parse_qsl(request.get_data(as_text=True), keep_blank_values=True))
        key = request.headers.get("Idempotency-Key")
        if self.on_request is not None:
            self.on_request(request)
        with self._lock:
            self.requests.append(
                RecordedRequest(request.method, request.path, params, key, request.headers.get("Authorization"))
            )
            if request.headers.get("Authorization") != f"Bearer {SECRET_KEY}":
                status, body = 401, {"error": {"type": "invalid_request_error", "message": "Invalid API Key"}}
            elif self.failure is not None:
                status, body = self.failure
            elif key and key in self._idempotent:
                first_params, status, body = self._idempotent[key]
                if first_params != params:
                    status, body = (
                        400,
                        {
                            "error": {
                                "type": "idempotency_error",
                                "message": "Keys for idempotent requests can only be used with the same parameters.",
                            }
                        },
                    )
            else:
                status, body = self._route(request.method, request.path, params)
                if key:
                    self._idempotent[key] = (params, status, body)
        if self.delay_seconds:
            time.sleep(self.delay_seconds)
        return Response(json.dumps(body), status=status, content_type="application/json")

    def _route(self, method: str, path: str, params: dict) -> tuple[int, dict]:
        if method == "POST" and path == "/v1/payment_intents":
            return 200, self._intent_create(params)
        match = re.fullmatch(r"/v1/payment_intents/([^/]+)/cancel", path)
        if method == "POST" and match:
            intent = self.intents.get(match.group(1))
            if intent is None:
                return 404, {"error": {"type": "invalid_request_error", "code": "resource_missing"}}
            if intent["status"] == "succeeded":
                return 400, {"error": {"type": "invalid_request_error", "code": "payment_intent_unexpected_state"}}
            intent["status"] = "canceled"
            return 200, intent
        if method == "POST" and path == "/v1/refunds":
            return 200, self._refund_create(params)
        return 404, {"error": {"type": "invalid_request_error", "message": f"No route {method} {path}"}}

    def _intent_create(self, params: dict) -> dict:
        number = next(self._ids)
        intent_id = f"pi_fake{number:06d}"
        intent = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": int(params["amount"]),
            "amount_received": 0,
            "currency": params["currency"],
            "status": "requires_payment_method",
            "client_secret": f"{intent_id}_secret_{number:04d}",
            "metadata": params.get("metadata", {}),
            "latest_charge": None,
            "livemode": False,
        }
        self.intents[intent_id] = intent
        return intent

    def _refund_create(self, params: dict) -> dict:
        refund_id = f"re_fake{next(self._ids):06d}"
        intent = self.intents.get(params.get("payment_intent"), {})
        refund = {
            "id": refund_id,
            "object": "refund",
            "amount": int(params["amount"]),
            "currency": intent.get("currency", "usd"),
            "payment_intent": params.get("payment_intent"),
            "status": self.refund_status,
            "metadata": params.get("metadata", {}),
            "reason": None,
        }
        self.refunds[refund_id] = refund
        return refund

    # --- what tests look at -------------------------------------------------------------------------

    def calls(self, method: str, path: str) -> list[RecordedRequest]:
        return [call for call in self.requests if call.method == method and call.path == path]

    # --- webhook events -------------------------------------------------------------------------

    def event(self, event_type: str, obj: dict, *, event_id: str | None = None, created: int | None = None) -> dict:
        return {
            "id": event_id or f"evt_fake{next(self._ids):06d}",
            "object": "event",
            "api_version": "2024-06-20",
            "created": int(time.time()) if created is None else created,
            "type": event_type,
            "livemode": False,
            "data": {"object": obj},
        }

    def succeeded_event(self, intent_id: str, *, amount: int | None = None, currency: str | None = None) -> dict:
        intent = dict(self.intents[intent_id])
        intent.update(status="succeeded", latest_charge=f"ch_{intent_id}")
        intent["amount_received"] = intent["amount"] if amount is None else amount
        if currency is not None:
            intent["currency"] = currency
        self.intents[intent_id] = intent
        return self.event("payment_intent.succeeded", intent)

    def processing_event(self, intent_id: str, *, created: int | None = None) -> dict:
        """A bank debit (us_bank_account, sepa_debit) was confirmed: the money arrives in days."""
        intent = dict(self.intents[intent_id])
        intent.update(status="processing", payment_method_types=["us_bank_account"])
        self.intents[intent_id] = intent
        return self.event("payment_intent.processing", intent, created=created)

    def dispute_event(
        self,
        intent_id: str,
        change: str = "created",
        *,
        dispute_id: str = "dp_fake1",
        status: str = "needs_response",
        reason: str = "fraudulent",
        amount: int | None = None,
        created: int | None = None,
    ) -> dict:
        """`charge.dispute.<change>` for the intent's charge, shaped like Stripe's Dispute object."""
        intent = self.intents[intent_id]
        dispute = {
            "id": dispute_id,
            "object": "dispute",
            "amount": intent["amount"] if amount is None else amount,
            "currency": intent["currency"],
            "charge": f"ch_{intent_id}",
            "payment_intent": intent_id,
            "reason": reason,
            "status": status,
            "evidence_details": {"due_by": 1893456000, "has_evidence": False, "submission_count": 0},
            "is_charge_refundable": False,
            "livemode": False,
        }
        return self.event(f"charge.dispute.{change}", dispute, created=created)

    def failed_event(self, intent_id: str, *, code: str = "card_declined", created: int | None = None) -> dict:
        intent = dict(self.intents[intent_id])
        intent.update(
            status="requires_payment_method",
            last_payment_error={
                "code": code,
                "decline_code": "insufficient_funds",
                "message": "Your card was declined.",
            },
        )
        return self.event("payment_intent.payment_failed", intent, created=created)

    def refund_event(
        self, intent_id: str, *, amount: int, refund_id: str | None = None, status: str = "succeeded", metadata=None
    ) -> dict:
        refund = {
            "id": refund_id or f"re_dash{next(self._ids):06d}",
            "object": "refund",
            "amount": amount,
            "currency": self.intents[intent_id]["currency"],
            "payment_intent": intent_id,
            "status": status,
            "metadata": metadata or {},
            "reason": "requested_by_customer",
        }
        return self.event("refund.updated", refund)


def sign(payload: str, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """The Stripe-Signature header Stripe would send for `payload`."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"
