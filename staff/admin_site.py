"""The admin site of the portal (職員用管理画面), with what every admin page needs.

Configured as the default site (``staff.apps.KenpoAdminConfig``), so every
``@admin.register`` — ours and third-party apps' (auth, sites, allauth, auditlog) —
lands here, and ``register`` adds ``HardenedAdminMixin`` to every ModelAdmin:

- only the filters an admin declares may be used in a query string (RULES.md R9:
  ``/admin/eligibility/household/?symbol=…&number=…`` would put 記号・番号 into URLs
  and access logs); any other lookup gets the admin's usual 400 ("Filtering by …
  not allowed");
- a search the list refuses (a My Number, a NUL …) stops the list's query and every
  action and "everyone matching" view built on it — Django's own list would drop
  the search and go on with everyone (issue 24);
- every admin view, custom ones from ``get_urls`` included, passes the staff gate
  (``staff.access.mfa_verified``) besides the admin's own staff check.
"""

from django.contrib import admin, messages
from django.contrib.admin import widgets
from django.contrib.admin.filters import SimpleListFilter
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import FieldDoesNotExist
from django.db.models.constants import LOOKUP_SEP

from .access import mark, mfa_verified


class HardenedAdminMixin:
    def declared_filter_paths(self, request) -> set[str]:
        paths = {self.date_hierarchy} if self.date_hierarchy else set()
        for item in self.get_list_filter(request):
            if isinstance(item, type) and issubclass(item, SimpleListFilter):
                paths.add(item.parameter_name)
            elif isinstance(item, list | tuple):
                paths.add(item[0])
            else:
                paths.add(item)
        return paths

    def lookup_allowed(self, lookup, value, request=None):
        if not super().lookup_allowed(lookup, value, request):
            return False
        # The raw-id popups' own filters (ForeignKey.limit_choices_to), as Django allows them.
        for fk_lookup in self.model._meta.related_fkey_lookups:
            fk_lookup = fk_lookup() if callable(fk_lookup) else fk_lookup
            if (lookup, value) in widgets.url_params_from_lookup_dict(fk_lookup).items():
                return True
        try:
            self.model._meta.get_field(lookup.split(LOOKUP_SEP)[0])
        except FieldDoesNotExist:
            return True  # not a field: the admin reports it as usual (IncorrectLookupParameters, ?e=1)
        declared = self.declared_filter_paths(request) if request is not None else set()
        return any(lookup == path or lookup.startswith(path + LOOKUP_SEP) for path in declared)


    def get_changelist_instance(self, request):
        search_form = self.get_changelist(request).search_form_class(request.GET)  # the list's own
        if not search_form.is_valid():
            for errors in search_form.errors.values():
                messages.error(request, ", ".join(errors))
            raise IncorrectLookupParameters("search refused")
        return super().get_changelist_instance(request)


class StaffAdminSite(admin.AdminSite):
    site_header = "けんぽポータル 職員用管理画面"
    site_title = "けんぽポータル 職員用"
    index_title = "業務メニュー"

    def register(self, model_or_iterable, admin_class=None, **options):
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, HardenedAdminMixin):
            admin_class = type(admin_class.__name__, (HardenedAdminMixin, admin_class),
                               {"__module__": admin_class.__module__, "__doc__": admin_class.__doc__})
        super().register(model_or_iterable, admin_class, **options)

    def admin_view(self, view, cacheable=False):
        # Leaving must always work: logout skips the MFA step (as in the middleware).
        if getattr(view, "__name__", "") == "logout":
            return mark(super().admin_view(view, cacheable))
        return mark(super().admin_view(mfa_verified(view), cacheable))
