"""The dashboard's population (one eligible person in each R5 status, two not eligible)
for every staff test: the list-count tests compare the dashboard with its lists."""

from staff.tests.test_dashboard import population  # noqa: F401
