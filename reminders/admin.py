"""Staff: the reminder log (filters by stage, status, date), counts per day, the
failed ones with their error and a retry action, and running the scan for a day."""

from datetime import date

from django import forms
from django.contrib import admin, messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from audit.admin_mixins import AuditedModelAdmin
from eligibility.selectors import today as today_in_japan

from . import scanning, selectors, sending, services
from .models import Reminder


class ScanForm(forms.Form):
    day = forms.DateField(label="お知らせ日（この日の確認を実行）", widget=forms.DateInput(attrs={"type": "date"}))


@admin.register(Reminder)
class ReminderAdmin(AuditedModelAdmin):
    list_display = ("due_on", "person", "subject", "stage", "expires_on", "status", "attempts", "sent_at",
                    "short_error", "dismissed_at")
    list_filter = ("status", "stage", "subject", "due_on")
    date_hierarchy = "due_on"
    search_fields = ("person__family_name", "person__given_name", "person__family_name_kana")
    list_select_related = ("person",)
    actions = ["retry_failed"]
    ordering = ("-due_on", "-id")
    readonly_fields = [f.name for f in Reminder._meta.fields]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="エラー")
    def short_error(self, obj: Reminder) -> str:
        return obj.last_error[:80]

    @admin.action(description="選択した送信失敗・送信結果不明のお知らせを再送する", permissions=["change"])
    def retry_failed(self, request, queryset):
        count = services.retry_failed(reminders=queryset, request=request)
        self.message_user(request, f"{count}件を再送します。", messages.SUCCESS)

    def get_urls(self):
        urls = [
            path("scan/", self.admin_site.admin_view(self.scan_view), name="reminders_reminder_scan"),
            path("counts/", self.admin_site.admin_view(self.counts_view), name="reminders_reminder_counts"),
        ]
        return urls + super().get_urls()

    def scan_view(self, request):
        if not self.has_change_permission(request):
            return redirect("admin:index")
        form = ScanForm(request.POST or None, initial={"day": today_in_japan()})
        if request.method == "POST" and form.is_valid():
            created = scanning.scan_by_staff(day=form.cleaned_data["day"], request=request)
            try:
                sending.enqueue_due()
            except sending.BrokerDown as down:
                self.message_user(request, str(down), messages.WARNING)
            total = sum(created.values())
            self.message_user(request, f"{form.cleaned_data['day']:%Y-%m-%d} の確認を実行しました：新しいお知らせ {total} 件"
                                       f"（{', '.join(f'{k}: {v}' for k, v in created.items())}）。", messages.SUCCESS)
            return redirect(reverse("admin:reminders_reminder_changelist"))
        return TemplateResponse(request, "admin/reminders/reminder/scan.html", {
            **self.admin_site.each_context(request), "form": form, "title": "期限のお知らせの確認を実行",
            "opts": self.model._meta,
        })

    def counts_view(self, request):
        if not self.has_view_permission(request):
            return redirect("admin:index")
        rows: dict[date, dict[str, int]] = {}
        for entry in selectors.counts_per_day():
            rows.setdefault(entry["due_on"], {})[entry["status"]] = entry["n"]
        statuses = Reminder.Status.choices
        table = [(day, [counts.get(value, 0) for value, _ in statuses]) for day, counts in rows.items()]
        return TemplateResponse(request, "admin/reminders/reminder/counts.html", {
            **self.admin_site.each_context(request), "table": table, "statuses": statuses,
            "title": "日ごとの件数", "opts": self.model._meta,
        })
