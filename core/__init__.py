"""Pieces every app shares, each in one place: the My Number check (R9), the
Japanese-era date format, and the free-text field that refuses My Numbers."""
