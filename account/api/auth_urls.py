"""/api/v1/authentication/"""

from django.urls import path

from . import views

urlpatterns = [
    path("register/", views.RegisterView.as_view(), name="auth-register"),
    path("verify-email/resend/", views.ResendVerificationView.as_view(), name="auth-verify-email-resend"),
    path("verify-email/<str:token>/", views.VerifyEmailView.as_view(), name="auth-verify-email"),
    path("login/", views.LoginView.as_view(), name="auth-login"),
    path("token/refresh/", views.TokenRefreshView.as_view(), name="auth-token-refresh"),
    path("logout/", views.LogoutView.as_view(), name="auth-logout"),
    path("password/reset/", views.PasswordResetView.as_view(), name="auth-password-reset"),
    path("password/reset/confirm/", views.PasswordResetConfirmView.as_view(), name="auth-password-reset-confirm"),
    path("password/change/", views.PasswordChangeView.as_view(), name="auth-password-change"),
    path("otp/request/", views.OtpRequestView.as_view(), name="auth-otp-request"),
    path("otp/verify/", views.OtpVerifyView.as_view(), name="auth-otp-verify"),
    path("social/<str:provider>/", views.SocialLoginView.as_view(), name="auth-social"),
]
