import factory

from cart.models import Cart, CartLine
from coupons.tests.factories import VariantFactory


class CartFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Cart

    user = None
    currency = "USD"


class CartLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CartLine

    cart = factory.SubFactory(CartFactory)
    variant = factory.SubFactory(VariantFactory)
    quantity = 1
    unit_price_when_set = factory.LazyAttribute(lambda line: line.variant.price)
