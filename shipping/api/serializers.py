from rest_framework import serializers

from core.countries import normalize_country
from shipping.models import TaxRate


class TaxRateSerializer(serializers.ModelSerializer):
    # Declared so lower-case input is normalized before the model's upper-case validator sees it.
    country = serializers.CharField(help_text="ISO 3166-1 alpha-2, e.g. DE.")
    region = serializers.CharField(
        max_length=10,
        required=False,
        allow_blank=True,
        default="",
        help_text='Subdivision, e.g. "CA"; empty: whole country.',
    )

    class Meta:
        model = TaxRate
        fields = ["id", "country", "region", "name", "rate", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]
        # The (country, region) pair is checked in validate(), after both are normalized.
        validators: list = []

    def validate_country(self, value: str) -> str:
        country = normalize_country(value)
        if country is None:
            raise serializers.ValidationError("Not an ISO 3166-1 alpha-2 country code.", code="invalid_country")
        return country

    def validate_region(self, value: str) -> str:
        return value.strip().upper()

    def validate_rate(self, value):
        if not 0 <= value <= 100:
            raise serializers.ValidationError("A percentage from 0 to 100.", code="invalid_rate")
        return value

    def validate(self, attrs):
        country = attrs.get("country", getattr(self.instance, "country", None))
        region = attrs.get("region", getattr(self.instance, "region", ""))
        clash = TaxRate.objects.filter(country=country, region=region)
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise serializers.ValidationError({"region": "This destination already has a tax rate."}, code="unique")
        return attrs
