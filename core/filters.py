"""Filter pieces shared by the apps' FilterSets: UTC datetimes, and strict query parameters
(unknown ones are a 400, docs/CATALOG.md "Query parameters")."""

from collections.abc import Iterable
from datetime import UTC

import django_filters
from django import forms
from django_filters.fields import IsoDateTimeField
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.settings import api_settings


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 datetime, turned into UTC. Python accepts offsets up to 24 h, PostgreSQL only
    about 16 h, so an odd offset would otherwise reach the database as a 500; and a date at the
    edge of the calendar that UTC pushes out of range is a 400."""

    def to_python(self, value):
        parsed = super().to_python(value)
        if parsed is None or parsed.tzinfo is None:
            return parsed
        try:
            return parsed.astimezone(UTC)
        except OverflowError:
            raise forms.ValidationError("Date out of range.", code="invalid") from None


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


def unknown_query_params(request, allowed: Iterable[str]) -> list[str]:
    """Query parameters of `request` outside `allowed` and those every endpoint takes (DRF's
    `format` override), in the order sent."""
    accepted = {*allowed, api_settings.URL_FORMAT_OVERRIDE}
    return [name for name in dict.fromkeys(request.query_params) if name not in accepted]


def reject_unknown_query_params(request, allowed: Iterable[str]) -> None:
    """A 400 `unknown_parameter` per unknown query parameter, its name in `attr`: a misspelt filter
    (`?serach=`, `?categroy=`) would otherwise answer the unfiltered list as if it matched."""
    allowed = sorted(set(allowed))
    unknown = unknown_query_params(request, allowed)
    if unknown:
        detail = "Unknown query parameter. Accepted: " + ", ".join(allowed) + "."
        raise ValidationError({name: [ErrorDetail(detail, code="unknown_parameter")] for name in unknown})


def _paginator_params(view) -> set[str]:
    """The query parameters the view's paginator reads (page, page_size, cursor, limit, offset...)."""
    paginator = getattr(view, "paginator", None)
    if paginator is None:
        return set()
    names = (getattr(paginator, attribute, None) for attribute in dir(paginator) if attribute.endswith("_query_param"))
    return {name for name in names if isinstance(name, str) and name}


class StrictQueryParamsMixin:
    """For FilterSets of list endpoints: unknown query parameters are a 400 naming them
    (`reject_unknown_query_params`) instead of being ignored. Accepted: the FilterSet's filters,
    `query_param_aliases` (alias -> filter name; the alias is copied to its filter when that is
    not given, both given with different values is a 400), `extra_query_params`, and the view's
    pagination parameters. Detail routes (`view.detail`, e.g. a retrieve that runs the filter
    backend through get_object) are not checked: their parameters are the view's business."""

    query_param_aliases: dict[str, str] = {}
    extra_query_params: frozenset[str] = frozenset()

    def __init__(self, data=None, *args, request=None, **kwargs):
        view = (
            request.parser_context.get("view") if request is not None and hasattr(request, "parser_context") else None
        )
        if request is not None and data is not None and not getattr(view, "detail", False):
            allowed = {
                *self.base_filters,
                *self.query_param_aliases,
                *self.extra_query_params,
                *_paginator_params(view),
            }
            reject_unknown_query_params(request, allowed)
            data = self._resolve_aliases(data)
        super().__init__(data, *args, request=request, **kwargs)

    def _resolve_aliases(self, data):
        if not any(alias in data for alias in self.query_param_aliases):
            return data
        data = data.copy()
        for alias, target in self.query_param_aliases.items():
            if alias not in data:
                continue
            value = data.pop(alias)
            if target in data and data.getlist(target) != value:
                detail = f"`{alias}` is another name of `{target}`: send one of them."
                raise ValidationError({alias: [ErrorDetail(detail, code="conflicting_parameters")]})
            data.setlist(target, value)
        return data
