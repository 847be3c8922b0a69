from django.contrib.admin.apps import AdminConfig


class KenpoAdminConfig(AdminConfig):
    """``django.contrib.admin`` with the portal's site (``staff.admin_site``) as the default."""

    default_site = "staff.admin_site.StaffAdminSite"
