"""Eligibility (資格): the society, employers, households of insured persons and
dependents, their My Number card facts, the date rules of RULES.md (rules.py), and
the member's dashboard and guides."""
