"""Base viewsets that own queryset scoping, so no view can forget to filter by owner."""

from rest_framework import viewsets
from rest_framework.permissions import IsAuthenticated


class OwnedQuerysetMixin:
    """Limits `get_queryset()` to rows whose `owner_field` is the caller; staff are scoped too
    unless `staff_sees_all` is set. A foreign id therefore resolves to 404, never 403."""

    owner_field = "user"
    staff_sees_all = False
    permission_classes = [IsAuthenticated]

    def get_queryset(self):
        queryset = super().get_queryset()
        user = self.request.user
        if self.staff_sees_all and user.is_staff:
            return queryset
        if not user.is_authenticated:
            return queryset.none()
        return queryset.filter(**{self.owner_field: user})


class OwnedModelViewSet(OwnedQuerysetMixin, viewsets.ModelViewSet):
    pass
