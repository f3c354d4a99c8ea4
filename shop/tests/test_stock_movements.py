"""Staff stock changes: the stock services record each change, the API passes a reason, and the
admin never writes back a stale count and refuses what the API refuses."""

import pytest
from django.contrib.admin.models import DELETION, LogEntry
from django.contrib.messages import get_messages

from shop import services, stock
from shop.errors import InvalidStockReason, LastVariant, StockBelowAllocated, VariantInUse
from shop.models import Product, ProductVariant, StockMovement
from shop.tests.factories import ProductFactory, ProductVariantFactory

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/v1/products/"


def on_hand_and_held(variant) -> tuple[int, int]:
    variant.refresh_from_db()
    return variant.quantity_on_hand, variant.quantity_allocated


def movements(variant) -> list[tuple]:
    return list(
        StockMovement.objects.filter(sku=variant.sku)
        .order_by("id")
        .values_list("delta", "quantity_on_hand_after", "reason", "note", "actor_id")
    )


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


# --- services -----------------------------------------------------------------------------------


def test_set_and_adjust_record_each_change_with_its_reason(staff_user):
    variant = ProductVariantFactory(quantity_on_hand=10)

    services.stock_set(variant=variant, quantity_on_hand=7, reason="recount", actor=staff_user, note="shelf B")
    services.stock_adjust(variant=variant, delta=5, reason="received")

    assert on_hand_and_held(variant) == (12, 0)
    assert movements(variant) == [(-3, 7, "recount", "shelf B", staff_user.pk), (5, 12, "received", "", None)]


def test_refused_changes_write_nothing():
    variant = ProductVariantFactory(quantity_on_hand=10)
    stock.stock_allocate(quantities={variant.pk: 4}, variants={variant.pk: variant})

    with pytest.raises(StockBelowAllocated):
        services.stock_set(variant=variant, quantity_on_hand=3, reason="recount")
    with pytest.raises(StockBelowAllocated):
        services.stock_adjust(variant=variant, delta=-7, reason="damaged")
    with pytest.raises(InvalidStockReason):
        services.stock_adjust(variant=variant, delta=1, reason="because")

    assert on_hand_and_held(variant) == (10, 4)
    assert movements(variant) == []


def test_adjust_applies_to_the_current_count_not_the_callers_copy():
    variant = ProductVariantFactory(quantity_on_hand=10)
    stale = ProductVariant.objects.get(pk=variant.pk)
    services.stock_adjust(variant=variant, delta=-4, reason="damaged")

    services.stock_adjust(variant=stale, delta=2, reason="returned")

    assert on_hand_and_held(variant) == (8, 0)
    assert movements(variant) == [(-4, 6, "damaged", "", None), (2, 8, "returned", "", None)]


def test_a_variant_held_by_open_orders_cannot_be_deleted():
    product = ProductFactory(variants=2)
    held, other = product.variants.order_by("pk")
    stock.stock_allocate(quantities={held.pk: 1}, variants={held.pk: held})

    with pytest.raises(VariantInUse):
        services.variant_delete(variant=held)

    assert set(product.variants.values_list("pk", flat=True)) == {held.pk, other.pk}


def test_history_outlives_a_deleted_variant():
    product = ProductFactory(variants=2)
    variant = product.variants.order_by("pk").first()
    services.stock_adjust(variant=variant, delta=3, reason="received")

    services.variant_delete(variant=variant)

    assert list(StockMovement.objects.values_list("variant_id", "sku", "delta")) == [(None, variant.sku, 3)]


# --- API ----------------------------------------------------------------------------------------


def test_stock_api_records_the_reason_the_note_and_the_staff_member(staff_client, staff_user):
    ProductFactory(slug="p", variants__sku="P-1", variants__quantity_on_hand=10)
    url = f"{PRODUCTS}p/variants/P-1/stock/"

    received = staff_client.post(url, {"delta": 6, "reason": "received", "note": "PO 42"}, format="json")
    counted = staff_client.post(url, {"quantity_on_hand": 14}, format="json")
    unknown = staff_client.post(url, {"delta": 1, "reason": "because"}, format="json")

    assert (received.status_code, counted.status_code) == (200, 200)
    assert counted.json()["quantity_on_hand"] == 14
    assert unknown.status_code == 400
    assert unknown.json()["errors"][0]["attr"] == "reason"
    variant = ProductVariant.objects.get(sku="P-1")
    assert movements(variant) == [
        (6, 16, "received", "PO 42", staff_user.pk),
        (-2, 14, "correction", "", staff_user.pk),
    ]


def test_variant_patch_of_on_hand_is_recorded_as_a_correction(staff_client, staff_user):
    ProductFactory(slug="p", variants__sku="P-1", variants__quantity_on_hand=10)

    response = staff_client.patch(f"{PRODUCTS}p/variants/P-1/", {"quantity_on_hand": 4}, format="json")

    assert response.status_code == 200
    assert movements(ProductVariant.objects.get(sku="P-1")) == [(-6, 4, "correction", "", staff_user.pk)]


def test_api_refuses_to_delete_a_variant_held_by_an_order(staff_client):
    product = ProductFactory(slug="p", variants=2)
    held = product.variants.order_by("pk").first()
    stock.stock_allocate(quantities={held.pk: 2}, variants={held.pk: held})

    response = staff_client.delete(f"{PRODUCTS}p/variants/{held.sku}/")

    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "variant_in_use"
    assert ProductVariant.objects.filter(pk=held.pk).exists()


# --- admin: variant screen ----------------------------------------------------------------------


def form_data(response) -> dict:
    """What a browser would post back from a rendered admin change form (main form and inlines)."""
    data = {}

    def add(form):
        for bound in form:
            value = bound.value()
            if isinstance(value, bool):
                if value:
                    data[bound.html_name] = "on"
                continue
            data[bound.html_name] = "" if value is None else str(value)

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        add(inline.formset.management_form)
        for form in inline.formset.forms:
            add(form)
    return data


def change_url(variant) -> str:
    return f"/admin/shop/productvariant/{variant.pk}/change/"


def test_saving_a_form_loaded_before_a_stock_move_keeps_the_move(admin_client):
    variant = ProductVariantFactory(quantity_on_hand=10, price="10.00")
    page = admin_client.get(change_url(variant))
    data = form_data(page)
    # Meanwhile an order holds 3 and the warehouse writes off 2.
    stock.stock_allocate(quantities={variant.pk: 3}, variants={variant.pk: variant})
    services.stock_adjust(variant=variant, delta=-2, reason="damaged")

    response = admin_client.post(change_url(variant), {**data, "price": "12.00", "quantity_on_hand": "10"})

    assert response.status_code == 302
    variant.refresh_from_db()
    assert (variant.price, variant.quantity_on_hand, variant.quantity_allocated) == (12, 8, 3)
    assert Product.objects.get(pk=variant.product_id).lowest_price == 12


def test_admin_sets_stock_through_the_service_with_a_reason(admin_client, staff_user):
    variant = ProductVariantFactory(quantity_on_hand=10)
    data = form_data(admin_client.get(change_url(variant)))

    without_reason = admin_client.post(change_url(variant), {**data, "stock_adjust_by": "5"})
    response = admin_client.post(
        change_url(variant), {**data, "stock_adjust_by": "5", "stock_reason": "received", "stock_note": "PO 7"}
    )

    assert without_reason.status_code == 200  # the form again, with the reason error
    assert "Say why the stock changes." in without_reason.content.decode()
    assert response.status_code == 302
    assert on_hand_and_held(variant) == (15, 0)
    assert movements(variant) == [(5, 15, "received", "PO 7", staff_user.pk)]


def test_admin_new_variant_gets_its_first_stock_as_a_recorded_movement(admin_client, staff_user):
    product = ProductFactory()
    fields = {"product": product.pk, "sku": "NEW-1", "price": "5.00", "currency": "USD", "weight": "0"}
    fields |= {"options": "{}", "sort_order": "0", "is_active": "on", "name": ""}

    response = admin_client.post(
        "/admin/shop/productvariant/add/",
        {**fields, "quantity_on_hand": "99", "stock_set_to": "4", "stock_reason": "received"},
    )

    assert response.status_code == 302
    variant = ProductVariant.objects.get(sku="NEW-1")
    assert on_hand_and_held(variant) == (4, 0)
    assert movements(variant) == [(4, 4, "received", "", staff_user.pk)]


def test_admin_stock_below_held_is_a_message_and_rolls_the_whole_save_back(admin_client):
    variant = ProductVariantFactory(quantity_on_hand=10, price="10.00")
    stock.stock_allocate(quantities={variant.pk: 6}, variants={variant.pk: variant})
    data = form_data(admin_client.get(change_url(variant)))

    response = admin_client.post(
        change_url(variant), {**data, "price": "99.00", "stock_set_to": "2", "stock_reason": "recount"}
    )

    assert response.status_code == 302
    assert response["Location"] == change_url(variant)
    assert messages_of(response) == ["Stock on hand cannot drop below the quantity held by open orders."]
    variant.refresh_from_db()
    assert (variant.price, variant.quantity_on_hand, variant.quantity_allocated) == (10, 10, 6)
    assert StockMovement.objects.count() == 0


def test_admin_deleting_the_last_active_variant_is_refused_with_a_message(admin_client):
    variant = ProductVariantFactory(quantity_on_hand=10)

    response = admin_client.post(f"/admin/shop/productvariant/{variant.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert response["Location"] == change_url(variant)
    assert messages_of(response) == [LastVariant.detail]
    assert ProductVariant.objects.filter(pk=variant.pk).exists()


def test_admin_bulk_delete_goes_through_the_service_all_or_nothing(admin_client):
    product = ProductFactory(variants=3)
    first, second, third = product.variants.order_by("pk")
    spare = ProductFactory(variants=2).variants.order_by("pk").first()

    refused = admin_client.post(
        "/admin/shop/productvariant/",
        {"action": "delete_selected", "post": "yes", "_selected_action": [first.pk, second.pk, third.pk, spare.pk]},
    )
    allowed = admin_client.post(
        "/admin/shop/productvariant/",
        {"action": "delete_selected", "post": "yes", "_selected_action": [first.pk, spare.pk]},
    )

    assert refused.status_code == 302
    assert f"{third.sku}: {LastVariant.detail} Nothing was deleted." in messages_of(refused)
    assert allowed.status_code == 302
    assert set(ProductVariant.objects.values_list("pk", flat=True)) == {second.pk, third.pk} | set(
        spare.product.variants.exclude(pk=spare.pk).values_list("pk", flat=True)
    )
    assert LogEntry.objects.filter(action_flag=DELETION).count() == 2  # only the deletions that happened


def test_stock_movements_admin_is_read_only(admin_client):
    variant = ProductVariantFactory(quantity_on_hand=1)
    services.stock_adjust(variant=variant, delta=1, reason="received")
    movement = StockMovement.objects.get()

    assert admin_client.get("/admin/shop/stockmovement/").status_code == 200
    assert admin_client.get("/admin/shop/stockmovement/add/").status_code == 403
    assert admin_client.post(f"/admin/shop/stockmovement/{movement.pk}/delete/", {"post": "yes"}).status_code == 403
    detail = admin_client.post(f"/admin/shop/stockmovement/{movement.pk}/change/", {"delta": "50"})
    assert detail.status_code == 403
    movement.refresh_from_db()
    assert movement.delta == 1


# --- admin: variants inline on the product screen -----------------------------------------------


def product_url(product) -> str:
    return f"/admin/shop/product/{product.pk}/change/"


def test_product_inline_save_keeps_stock_moved_meanwhile_and_applies_inline_stock_changes(admin_client, staff_user):
    product = ProductFactory(variants=2, variants__quantity_on_hand=10)
    first, second = product.variants.order_by("pk")
    data = form_data(admin_client.get(product_url(product)))
    stock.stock_allocate(quantities={first.pk: 4}, variants={first.pk: first})
    services.stock_adjust(variant=first, delta=-1, reason="damaged")
    data.update({"name": "Renamed", "variants-1-stock_set_to": "3", "variants-1-stock_reason": "recount"})

    response = admin_client.post(product_url(product), data)

    assert response.status_code == 302
    assert Product.objects.get(pk=product.pk).name == "Renamed"
    assert on_hand_and_held(first) == (9, 4)
    assert on_hand_and_held(second) == (3, 0)
    assert movements(second) == [(-7, 3, "recount", "", staff_user.pk)]


def test_product_inline_adds_a_variant_with_its_first_stock(admin_client, staff_user):
    product = ProductFactory(variants=1)
    data = form_data(admin_client.get(product_url(product)))
    new = {"sku": "ADDED-1", "price": "7.00", "currency": "USD", "weight": "0", "options": "{}", "sort_order": "1"}
    new |= {"is_active": "on", "stock_set_to": "5", "stock_reason": "received"}
    data.update({f"variants-1-{name}": value for name, value in new.items()})
    data["variants-TOTAL_FORMS"] = "2"

    response = admin_client.post(product_url(product), data)

    assert response.status_code == 302
    added = ProductVariant.objects.get(sku="ADDED-1")
    assert (added.product_id, on_hand_and_held(added)) == (product.pk, (5, 0))
    assert movements(added) == [(5, 5, "received", "", staff_user.pk)]
    assert Product.objects.get(pk=product.pk).lowest_price == 7


def test_product_inline_delete_follows_the_api_rules(admin_client):
    product = ProductFactory(variants=2)
    held, other = product.variants.order_by("pk")
    stock.stock_allocate(quantities={held.pk: 1}, variants={held.pk: held})
    data = form_data(admin_client.get(product_url(product)))

    response = admin_client.post(product_url(product), {**data, "name": "Renamed", "variants-0-DELETE": "on"})

    assert response.status_code == 302
    assert response["Location"] == product_url(product)
    assert messages_of(response) == [f"{held.sku}: {VariantInUse.detail}"]
    assert set(product.variants.values_list("pk", flat=True)) == {held.pk, other.pk}
    assert Product.objects.get(pk=product.pk).name == product.name


# --- concurrency --------------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_adjustments_each_record_the_count_they_left():
    from shop.tests.test_concurrency_postgres import run_in_parallel

    variant = ProductVariantFactory(quantity_on_hand=10)

    outcomes = run_in_parallel(
        [lambda: services.stock_adjust(variant=ProductVariant.objects.get(pk=variant.pk), delta=1, reason="received")]
        * 6
    )

    assert not [outcome for outcome in outcomes if isinstance(outcome, Exception)]
    assert on_hand_and_held(variant) == (16, 0)
    assert sorted(after for _, after, *_ in movements(variant)) == [11, 12, 13, 14, 15, 16]
