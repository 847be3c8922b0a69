"""Pages of the certificates app: ``member`` (the re-issue request) and ``staff``
(review, batches, downloads)."""

from .staff import STATUS_LABELS

__all__ = ["STATUS_LABELS"]
