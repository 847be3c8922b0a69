"""The staff's admin pages for the society's people.

Every detail view and change is written to the audit log (AuditedModelAdmin);
changes with before/after values by django-auditlog. Big lists paginate without a
full COUNT(*). 記号・番号 never go into a URL: the changelist search covers names
and kana; a lookup by 記号・番号 is a POST form that redirects to the person's page
by id.
"""

import re
import unicodedata

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext_lazy as _

from audit.admin_mixins import AuditedModelAdmin
from audit.models import AuditEntry
from audit.services import record

from .admin_filters import EligibleListFilter, ExpiryMonthListFilter, StatusListFilter
from .admin_forms import HouseholdAdminForm
from .admin_search import FoldedNameSearchMixin
from .contacts import (
    ContactRefused,
    contact_invite,
    contact_remove,
    email_has_login,
    send_invitation,
)
from .linking import issue_activation_code
from .models import (
    ActivationCode,
    CardFacts,
    CardFactsChange,
    Employer,
    EmployerContact,
    Household,
    MemberLink,
    Person,
    Society,
    normalise_digits,
    read_symbol_number,
)
from .services import CARD_FACT_FIELDS, update_card_facts

# One action issues at most this many codes: a page of codes is printed at once.
MAX_CODES_PER_ACTION = 500


@admin.register(Society)
class SocietyAdmin(AuditedModelAdmin):
    list_display = ("insurer_number", "name", "address", "phone")


@admin.register(Employer)
class EmployerAdmin(AuditedModelAdmin):
    list_display = ("code", "name", "society", "address")
    search_fields = ("code", "name")
    list_select_related = ("society",)


class PersonInline(admin.TabularInline):
    model = Person
    fields = ("branch_number", "relationship", "family_name", "given_name", "birth_date", "eligible_from", "eligible_until")
    readonly_fields = fields
    extra = 0
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Household)
class HouseholdAdmin(AuditedModelAdmin):
    form = HouseholdAdminForm
    list_display = ("id", "symbol", "number", "employer", "voluntary_continuation")
    list_filter = ("voluntary_continuation",)
    list_select_related = ("employer",)
    raw_id_fields = ("employer",)
    inlines = [PersonInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("persons")


class CardFactsInline(admin.StackedInline):
    model = CardFacts
    can_delete = False
    fields = (
        "has_card", "card_expires_on", "ecert_expires_on", "ecert_source",
        "registered", "registration_source", "registration_as_of", "uses_smartphone",
        "effective_expires_on", "renewal_opens_on", "grace_ends_on", "updated_at", "updated_by",
    )
    readonly_fields = ("effective_expires_on", "renewal_opens_on", "grace_ends_on", "updated_at", "updated_by")


class SymbolNumberLookupForm(forms.Form):
    # A whole 記号・番号・枝番 pasted into 記号 (109-200004-00, as the portal prints it) is read too.
    symbol = forms.CharField(label="記号", max_length=40,
                             help_text="「109-200004-00」「109・200004」のように、まとめて貼り付けても探せます。")
    number = forms.CharField(label="番号", max_length=8, required=False)
    branch_number = forms.CharField(label="枝番（任意）", max_length=2, required=False)

    def clean(self):
        data = super().clean()
        whole = read_symbol_number(data.get("symbol") or "")
        if whole is not None and not (data.get("number") or "").strip():
            data["symbol"], data["number"], data["branch_number"] = whole
            return data
        for name in ("symbol", "number", "branch_number"):
            # Full-width digits from an IME count as the digits they are.
            value = re.sub(r"\s", "", unicodedata.normalize("NFKC", data.get(name) or ""))
            if value and not value.isdigit():
                self.add_error(name, "数字で入力してください（例：109-200004-00）。")
            elif name == "symbol" and len(value) > 8:
                self.add_error(name, "記号は8桁までの数字です。")
            data[name] = value
        if not data.get("number") and not self.errors:
            self.add_error("number", "番号を入力してください（記号の欄に「109-200004」とまとめて入力もできます）。")
        return data


@admin.register(Person)
class PersonAdmin(FoldedNameSearchMixin, AuditedModelAdmin):
    list_display = ("name_display", "name_kana_display", "symbol_number", "branch_number", "relationship", "birth_date", "eligible_until")
    # The staff dashboard links its numbers here: the same queries (admin_filters).
    list_filter = (EligibleListFilter, StatusListFilter, ExpiryMonthListFilter, "relationship", "sex", "certificate_wanted")
    # Names and kana only: a search puts its terms in the URL, and 記号・番号 must not
    # be there (RULES.md R9). Use 「記号・番号で探す」 (a POST form) for those.
    # Folded (core.kana): かとう and ｶﾄｳ find カトウ, 山崎 finds 山﨑, 高橋 finds 髙橋.
    search_fields = ("search_text",)
    search_help_text = _("氏名・カナで検索（ひらがな・カタカナ・半角、髙/高 などの異体字は区別しません）")
    list_select_related = ("household",)
    raw_id_fields = ("household",)
    inlines = [CardFactsInline]
    actions = ["issue_activation_codes"]
    ordering = ("household_id", "branch_number")

    @admin.display(description="氏名", ordering="family_name_kana")
    def name_display(self, obj):
        return obj.name

    @admin.display(description="カナ")
    def name_kana_display(self, obj):
        return obj.name_kana

    @admin.display(description="記号・番号")
    def symbol_number(self, obj):
        return f"{obj.household.symbol}・{obj.household.number}"

    def save_formset(self, request, form, formset, change):
        """Card facts edited on the person's page go through the one write of card facts
        (``services.update_card_facts``): 更新者 and 更新日時 set, the change kept in the
        person's history (source 職員) and audited — never a bare save of the row."""
        if formset.model is not CardFacts:
            return super().save_formset(request, form, formset, change)
        # What formset.save() would have noted, for the admin's change message.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for inline in formset.forms:
            changed = [name for name in inline.changed_data if name in CARD_FACT_FIELDS]
            if changed:
                update_card_facts(person=form.instance, changes={n: inline.cleaned_data[n] for n in changed},
                                  changed_by=request.user, source=CardFactsChange.Source.STAFF, request=request)
                formset.changed_objects.append((inline.instance, changed))
        return None

    def get_urls(self):
        custom = [
            path(
                "lookup/",
                self.admin_site.admin_view(self.lookup_view),
                name="eligibility_person_lookup",
            )
        ]
        return custom + super().get_urls()

    def lookup_view(self, request):
        """記号・番号（・枝番）で探す: POST only, so the numbers stay out of URLs and logs."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = SymbolNumberLookupForm(request.POST or None)
        results = None
        if request.method == "POST" and form.is_valid():
            d = form.cleaned_data
            filters = Q(household__symbol=normalise_digits(d["symbol"])) & Q(household__number=normalise_digits(d["number"]))
            if d["branch_number"]:
                filters &= Q(branch_number=d["branch_number"].zfill(2))
            results = list(self.get_queryset(request).filter(filters).order_by("branch_number")[:50])
            # Who looked up whom; the numbers typed stay out of the entry (R9).
            record(action=AuditEntry.Action.VIEW, request=request, obj=results[0] if len(results) == 1 else None,
                   summary="記号・番号で加入者を検索", row_count=len(results))
            if len(results) == 1:
                return redirect(reverse("admin:eligibility_person_change", args=[results[0].pk]))
            if not results:
                messages.warning(request, "該当する加入者はいません。")
        context = {
            **self.admin_site.each_context(request),
            "title": "記号・番号で探す",
            "opts": self.model._meta,
            "form": form,
            "results": results,
        }
        return TemplateResponse(request, "admin/eligibility/person/lookup.html", context)

    def has_issue_code_permission(self, request) -> bool:
        return request.user.has_perm("eligibility.add_activationcode")

    @admin.action(description=_("連携コードを発行"), permissions=["issue_code"])
    def issue_activation_codes(self, request, queryset):
        """Issue one code per selected person and show them once, for printing."""
        persons = list(queryset.select_related("household")[: MAX_CODES_PER_ACTION + 1])
        if len(persons) > MAX_CODES_PER_ACTION:
            self.message_user(
                request, f"一度に発行できるのは{MAX_CODES_PER_ACTION}人までです。", level=messages.ERROR
            )
            return None
        codes = []
        for person in persons:
            code = issue_activation_code(person=person, created_by=request.user)
            record(action=AuditEntry.Action.ISSUE, request=request, obj=person, summary="連携コードを発行")
            codes.append((person, code))
        context = {
            **self.admin_site.each_context(request),
            "title": "連携コード（この画面でのみ表示）",
            "opts": self.model._meta,
            "codes": codes,
        }
        response = TemplateResponse(request, "admin/eligibility/person/activation_codes.html", context)
        add_never_cache_headers(response)  # the codes must not stay in any cache
        return response


@admin.register(MemberLink)
class MemberLinkAdmin(FoldedNameSearchMixin, AuditedModelAdmin):
    list_display = ("user", "person", "linked_at")
    name_search_field = "person__search_text"
    search_fields = ("person__search_text", "user__email")
    raw_id_fields = ("user", "person")
    list_select_related = ("user", "person")


@admin.register(ActivationCode)
class ActivationCodeAdmin(AuditedModelAdmin):
    """Codes are issued by the action on 加入者 (shown once); here only their state."""

    list_display = ("person", "created_at", "expires_at", "used_at")
    list_filter = (("used_at", admin.EmptyFieldListFilter),)
    fields = ("person", "created_at", "created_by", "expires_at", "used_at", "used_by")
    readonly_fields = fields
    list_select_related = ("person",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class EmployerContactInviteForm(forms.ModelForm):
    """Staff invite a contact: the address the invitation goes to, the name, the 事業所."""

    email = forms.EmailField(label=_("メールアドレス（招待メールの送り先）"))

    class Meta:
        model = EmployerContact
        fields = ("email", "name", "employers")

    def clean_email(self):
        email = self.cleaned_data["email"]
        if email_has_login(email):
            raise forms.ValidationError(_("このメールアドレスのログインはすでにあります。別のアドレスで招待してください。"))
        return email


@admin.register(EmployerContact)
class EmployerContactAdmin(AuditedModelAdmin):
    """事業所担当者 (R12): invited here (an e-mail with a link to set a password; TOTP at the
    first sign-in), removed by the action (the login is deactivated, never deleted)."""

    list_display = ("name", "email", "employer_names", "invited_at", "removed_at")
    list_filter = ("employers", ("removed_at", admin.EmptyFieldListFilter))
    search_fields = ("name", "user__email")
    actions = ["remove", "resend"]
    filter_horizontal = ("employers",)

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = EmployerContactInviteForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        return ("email", "name", "employers") if obj is None else ("name", "employers", "invited_at", "removed_at")

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else ("invited_at", "removed_at")

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        try:
            contact = contact_invite(email=form.cleaned_data["email"], name=form.cleaned_data["name"],
                                     employers=form.cleaned_data["employers"], by=request.user, request=request)
        except ContactRefused as exc:
            raise PermissionDenied(str(exc)) from exc
        obj.pk, obj.user_id = contact.pk, contact.user_id
        messages.success(request, _("招待メールを送りました。"))

    def save_related(self, request, form, formsets, change):
        if change:
            super().save_related(request, form, formsets, change)

    @admin.display(description=_("メールアドレス"))
    def email(self, obj):
        return obj.user.email

    @admin.display(description=_("担当する事業所"))
    def employer_names(self, obj):
        return "、".join(e.name for e in obj.employers.all())

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user").prefetch_related("employers")

    @admin.action(description=_("選択した担当者を削除する（ログインできなくなります）"), permissions=["change"])
    def remove(self, request, queryset):
        for contact in queryset.filter(removed_at__isnull=True):
            contact_remove(contact=contact, by=request.user, request=request)
        messages.success(request, _("削除しました。"))

    @admin.action(description=_("招待メールを再送する"), permissions=["change"])
    def resend(self, request, queryset):
        for contact in queryset.filter(removed_at__isnull=True, user__last_login__isnull=True):
            send_invitation(contact)
        messages.success(request, _("まだログインしていない担当者に招待メールを再送しました。"))

    def has_delete_permission(self, request, obj=None):
        return False
