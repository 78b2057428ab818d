"""The UI's stable URLs: `/` dashboard, `/contacts/`, `/companies/`, `/deals/`, `/deals/board/`."""

from django.contrib.auth import views as auth_views
from django.urls import include, path

from customers.web import account, activities, board, companies, contacts, dashboard, deals

app_name = "web"

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
    path("contacts/", contacts.contact_list, name="contact-list"),
    path("contacts/new/", contacts.contact_create, name="contact-create"),
    path("contacts/bulk/", contacts.contact_bulk, name="contact-bulk"),
    path("contacts/<int:pk>/", contacts.contact_detail, name="contact-detail"),
    path("contacts/<int:pk>/edit/", contacts.contact_edit, name="contact-edit"),
    path(
        "contacts/<int:pk>/activities/",
        contacts.contact_log_activity,
        name="contact-log-activity",
    ),
    path("companies/", companies.company_list, name="company-list"),
    path("companies/new/", companies.company_create, name="company-create"),
    path("companies/bulk/", companies.company_bulk, name="company-bulk"),
    path("companies/<int:pk>/", companies.company_detail, name="company-detail"),
    path("companies/<int:pk>/edit/", companies.company_edit, name="company-edit"),
    path(
        "companies/<int:pk>/activities/",
        companies.company_log_activity,
        name="company-log-activity",
    ),
    path("deals/", deals.deal_list, name="deal-list"),
    path("deals/board/", board.deal_board, name="deal-board"),
    path("deals/new/", deals.deal_create, name="deal-create"),
    path("deals/bulk/", deals.deal_bulk, name="deal-bulk"),
    path("deals/<int:pk>/", deals.deal_detail, name="deal-detail"),
    path("deals/<int:pk>/edit/", deals.deal_edit, name="deal-edit"),
    path("deals/<int:pk>/move/", deals.deal_move, name="deal-move"),
    path("deals/<int:pk>/activities/", deals.deal_log_activity, name="deal-log-activity"),
    path("activities/<int:pk>/done/", activities.activity_done, name="activity-done"),
    path("", include("customers.web.urls_exchange")),
    path("", include("integrations.web.urls")),
    path("legal/", include("customers.web.legal")),
]
