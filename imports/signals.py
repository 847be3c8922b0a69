"""What the imports tell the apps above them (they never import those apps)."""

from django.dispatch import Signal

# Sent after an import changed the roster or the registration statuses (``run=``):
# the staff dashboard recomputes its counts (staff.apps connects to it).
imported = Signal()
