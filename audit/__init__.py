"""The audit log (監査ログ): who read, changed, exported, downloaded or imported
personal data, and every login. ``audit.services.record`` is the one place that
writes an entry; model changes (before/after values) are kept by django-auditlog."""
