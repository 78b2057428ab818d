"""The UI's stable URLs: `/` dashboard, `/contacts/`, `/companies/`, `/deals/`, `/deals/board/`."""

from django.contrib.auth import views as auth_views
from django.urls import path

from customers.web import account, dashboard

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("accounts/login/", account.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", account.PasswordChangeView.as_view(), name="password-change"),
    path(
        "accounts/password/done/",
        account.PasswordChangeDoneView.as_view(),
        name="password-change-done",
    ),
    path("accounts/language/", account.language_switch, name="language-switch"),
]
