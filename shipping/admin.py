from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import transaction

from core.countries import normalize_country

from .models import ShippingMethod, ShippingRate, ShippingZone, ShippingZoneCountry, TaxRate


class ShippingZoneForm(forms.ModelForm):
    """Countries as one comma-separated field: a zone like "European Union" has 27 of them."""

    countries_text = forms.CharField(
        label="Countries",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="ISO 3166-1 alpha-2 codes separated by commas or spaces, e.g. DE, FR, NL.",
    )

    class Meta:
        model = ShippingZone
        fields = ["name"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            codes = self.instance.countries.values_list("country", flat=True)
            self.fields["countries_text"].initial = ", ".join(codes)

    def clean_countries_text(self) -> list[str]:
        raw = self.cleaned_data["countries_text"].replace(",", " ").split()
        invalid = [code for code in raw if normalize_country(code) is None]
        if invalid:
            raise ValidationError(f"Not ISO country codes: {', '.join(invalid)}.")
        return sorted({normalize_country(code) for code in raw})


class ShippingMethodInline(admin.TabularInline):
    model = ShippingMethod
    extra = 0
    fields = ["name", "rate_type", "flat_price", "free_over", "min_delivery_days", "max_delivery_days", "is_active"]
    show_change_link = True


@admin.register(ShippingZone)
class ShippingZoneAdmin(admin.ModelAdmin):
    form = ShippingZoneForm
    list_display = ["name", "country_list", "method_count"]
    search_fields = ["name", "countries__country"]
    inlines = [ShippingMethodInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("countries", "methods")

    @admin.display(description="countries")
    def country_list(self, zone) -> str:
        return ", ".join(country.country for country in zone.countries.all())

    @admin.display(description="methods")
    def method_count(self, zone) -> int:
        return len(zone.methods.all())

    @transaction.atomic
    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        wanted = set(form.cleaned_data["countries_text"])
        obj.countries.exclude(country__in=wanted).delete()
        present = set(obj.countries.values_list("country", flat=True))
        ShippingZoneCountry.objects.bulk_create(
            [ShippingZoneCountry(zone=obj, country=country) for country in sorted(wanted - present)]
        )


class ShippingRateFormSet(forms.BaseInlineFormSet):
    """Bands of one method must not overlap, and a banded method needs at least one band."""

    def clean(self):
        super().clean()
        bands = []
        for form in self.forms:
            if not hasattr(form, "cleaned_data") or not form.cleaned_data or form.cleaned_data.get("DELETE"):
                continue
            low, high = form.cleaned_data.get("min_value"), form.cleaned_data.get("max_value")
            if low is not None:
                bands.append((low, high))
        rate_type = getattr(self.instance, "rate_type", ShippingMethod.RateType.FLAT)
        if rate_type != ShippingMethod.RateType.FLAT and not bands:
            raise ValidationError("A weight- or price-based method needs at least one rate band.")
        bands.sort(key=lambda band: band[0])
        for (_, previous_high), (next_low, _) in zip(bands, bands[1:], strict=False):
            if previous_high is None or previous_high > next_low:
                raise ValidationError("Rate bands overlap: each band must start at or after the previous one's end.")


class ShippingRateInline(admin.TabularInline):
    model = ShippingRate
    formset = ShippingRateFormSet
    extra = 1
    fields = ["min_value", "max_value", "price"]


@admin.register(ShippingMethod)
class ShippingMethodAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "zone",
        "rate_type",
        "flat_price",
        "free_over",
        "currency",
        "min_delivery_days",
        "max_delivery_days",
        "is_active",
    ]
    list_filter = ["rate_type", "is_active", "zone"]
    search_fields = ["name", "zone__name"]
    list_select_related = ["zone"]
    inlines = [ShippingRateInline]


@admin.register(TaxRate)
class TaxRateAdmin(admin.ModelAdmin):
    list_display = ["country", "region", "name", "rate", "updated_at"]
    list_editable = ["rate"]
    list_filter = ["country"]
    search_fields = ["country", "region", "name"]
