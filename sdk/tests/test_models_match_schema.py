"""Every SDK model that mirrors a schema component carries each of its fields, so a field added to
the API without the SDK fails here instead of hiding in `extra`."""

import dataclasses

import pytest
from drf_spectacular.generators import SchemaGenerator

from sdk import models

COMPONENTS = SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]
MIRRORED = sorted(
    name
    for name, cls in vars(models).items()
    if isinstance(cls, type) and dataclasses.is_dataclass(cls) and name in COMPONENTS
)


def test_the_sdk_mirrors_the_main_resources():
    assert {"Order", "OrderLine", "Cart", "ProductDetail", "Payment", "User", "Conversation"} <= set(MIRRORED)


@pytest.mark.parametrize("name", MIRRORED)
def test_sdk_model_has_every_schema_field(name):
    fields = {field.name for field in dataclasses.fields(getattr(models, name))}

    assert set(COMPONENTS[name].get("properties", {})) - fields == set()
