import itertools

import pytest

from core.errors import InvalidTransition
from orders.state import ALLOWED_TRANSITIONS, OrderStatus, can_transition, ensure_transition

EXPECTED_EDGES = {
    ("pending_payment", "paid"),
    ("pending_payment", "cancelled"),
    ("pending_payment", "payment_processing"),
    ("payment_processing", "paid"),
    ("payment_processing", "pending_payment"),
    ("payment_processing", "cancelled"),
    ("paid", "shipped"),
    ("paid", "cancelled"),
    ("paid", "refunded"),
    ("shipped", "delivered"),
    ("shipped", "refunded"),
    ("delivered", "refunded"),
}


@pytest.mark.parametrize("current,target", list(itertools.product(OrderStatus.values, repeat=2)))
def test_only_the_documented_edges_are_allowed(current, target):
    allowed = (current, target) in EXPECTED_EDGES

    assert can_transition(current, target) is allowed
    if allowed:
        ensure_transition(current, target)
    else:
        with pytest.raises(InvalidTransition) as raised:
            ensure_transition(current, target)
        assert raised.value.code == "invalid_transition"
        assert raised.value.status_code == 409
        assert raised.value.extra == {"current_status": current, "requested_status": target}


def test_final_states_have_no_way_out():
    assert ALLOWED_TRANSITIONS[OrderStatus.CANCELLED] == frozenset()
    assert ALLOWED_TRANSITIONS[OrderStatus.REFUNDED] == frozenset()
