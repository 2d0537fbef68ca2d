"""The admin site: signing in goes through the site's login (lockout, 2FA step),
and no admin page opens for staff without the second factor in this session.

It is branded Citydesk, and its start page shows today's figures that the apps
register (portal.admin_dashboard) above the list of models.
"""

from functools import update_wrapper

from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.utils import timezone
from django.utils.translation import pgettext_lazy

from portal.admin_dashboard import dashboard_figures
from portal.staff_mfa import staff_second_factor_redirect


class AdminSite(admin.AdminSite):
    site_header = "Citydesk"
    site_title = "Citydesk"
    index_title = pgettext_lazy("admin site", "Back office")
    index_template = "admin/citydesk_index.html"

    def index(self, request, extra_context=None):
        context = {"figures": dashboard_figures(request), "today": timezone.localdate(), **(extra_context or {})}
        return super().index(request, context)

    def login(self, request, extra_context=None):
        # The admin's own password form would bypass the 2FA step: visitors are
        # sent to the site's login (allauth), which comes back with ?next=.
        return secure_admin_login(super().login)(request, extra_context)

    def admin_view(self, view, cacheable=False):
        def second_factor_checked(request, *args, **kwargs):
            return staff_second_factor_redirect(request) or view(request, *args, **kwargs)

        # Keep the view's attributes (csrf_exempt…) for the wrapping admin_view.
        update_wrapper(second_factor_checked, view)
        return super().admin_view(second_factor_checked, cacheable)
