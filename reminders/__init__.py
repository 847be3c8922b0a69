"""Expiry reminders: a daily scan (Celery beat) creates one row per person, stage
and expiry date; workers send them, exactly once, as one e-mail per household."""
