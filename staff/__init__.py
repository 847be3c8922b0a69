"""The staff side: roles, MFA for staff, roster and registration-status imports,
and the staff dashboard."""
