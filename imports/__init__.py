"""Imports by staff: the society's roster (加入者名簿) and the monthly national file
of insurance registrations (利用登録状況), previewed before anything is written."""
