from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm

from .errors import AccountHasOpenOrders
from .models import Address, PhoneOtp, User
from .services import user_anonymize, user_verification_resend


class UserCreationAdminForm(AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("email",)


class UserChangeAdminForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User
        fields = "__all__"
        field_classes: dict = {}


class AddressInline(admin.TabularInline):
    model = Address
    extra = 0
    fields = [
        "first_name",
        "last_name",
        "line1",
        "city",
        "postal_code",
        "country",
        "is_default_shipping",
        "is_default_billing",
    ]
    show_change_link = True


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = UserChangeAdminForm
    add_form = UserCreationAdminForm
    ordering = ["-date_joined"]
    list_display = [
        "email",
        "phone",
        "first_name",
        "last_name",
        "email_verified",
        "phone_verified",
        "is_staff",
        "is_active",
        "date_joined",
        "last_login",
    ]
    list_filter = [
        "is_staff",
        "is_active",
        "email_verified",
        "phone_verified",
        "sms_opt_in",
        "marketing_opt_in",
        ("anonymized_at", admin.EmptyFieldListFilter),
        "date_joined",
    ]
    search_fields = ["email", "phone", "pending_email", "pending_phone", "first_name", "last_name"]
    readonly_fields = ["last_login", "date_joined", "anonymized_at", "pending_email", "pending_phone"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (
            "Profile",
            {
                "fields": (
                    "first_name",
                    "last_name",
                    "phone",
                    "phone_verified",
                    "pending_phone",
                    "email_verified",
                    "pending_email",
                )
            },
        ),
        ("Consent", {"fields": ("marketing_opt_in", "sms_opt_in")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined", "anonymized_at")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    actions = ["anonymize_selected", "resend_verification"]

    def get_inlines(self, request, obj):
        # The add page only takes email and password; addresses come once the user exists.
        return [AddressInline] if obj is not None else []

    @admin.action(description="Anonymise the selected accounts (GDPR erasure; orders are kept)")
    def anonymize_selected(self, request, queryset):
        # Staff accounts are closed by first removing their staff status, never by accident here.
        customers = queryset.filter(is_staff=False, is_superuser=False, anonymized_at__isnull=True)
        done, refused = [], 0
        for user in customers:
            try:
                done.append(user_anonymize(user=user, reason=f"by staff {request.user.pk}"))
            except AccountHasOpenOrders as error:
                refused += 1
                self.message_user(request, f"{user} was not anonymised: {error.detail}", messages.ERROR)
        self.message_user(request, f"{len(done)} account(s) anonymised.", messages.SUCCESS)
        skipped = queryset.count() - len(done) - refused
        if skipped:
            self.message_user(request, f"{skipped} staff or already anonymised account(s) skipped.", messages.WARNING)

    @admin.action(description="Send the verification email again")
    def resend_verification(self, request, queryset):
        unverified = queryset.filter(is_active=True, email__isnull=False, email_verified=False)
        for user in unverified:
            user_verification_resend(email=user.email)
        self.message_user(request, f"Verification email queued for {unverified.count()} account(s).", messages.SUCCESS)


@admin.register(Address)
class AddressAdmin(admin.ModelAdmin):
    list_display = ["__str__", "user", "country", "is_default_shipping", "is_default_billing", "created_at"]
    list_filter = ["country", "is_default_shipping", "is_default_billing"]
    search_fields = ["user__email", "first_name", "last_name", "line1", "city", "postal_code"]
    list_select_related = ["user"]
    autocomplete_fields = ["user"]
    readonly_fields = ["id", "created_at", "updated_at"]


@admin.register(PhoneOtp)
class PhoneOtpAdmin(admin.ModelAdmin):
    """Read-only: lets support see why a customer's code did not work. The code itself is never stored."""

    list_display = ["phone", "purpose", "created_at", "expires_at", "attempts", "used_at"]
    list_filter = ["purpose", "created_at"]
    search_fields = ["phone"]
    exclude = ["code_hash"]
    readonly_fields = ["phone", "purpose", "user", "attempts", "created_at", "expires_at", "used_at"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
