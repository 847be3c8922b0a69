"""Admin search by name that forgives how a clerk types it (core.kana).

A search term matches when its folded form (hiragana or katakana, half- or
full-width, 髙/高, 﨑/崎 …) is part of a person's stored ``search_text``: one
``LIKE '%term%'`` on one column, which the trigram index of eligibility/0005 serves
at a million persons. Every term must match (as in Django's own search).
"""

from django.contrib.admin.utils import lookup_spawns_duplicates
from django.db.models import Q

from .selectors import name_matches, search_terms


class FoldedNameSearchMixin:
    """Set ``name_search_field`` to the path of ``Person.search_text`` ("search_text",
    "person__search_text"); other ``search_fields`` (e.g. a serial) still match as usual."""

    name_search_field = "search_text"

    def get_search_results(self, request, queryset, search_term):
        terms = search_terms(search_term)
        if not terms:
            return queryset, False
        others = [f for f in self.get_search_fields(request) if f != self.name_search_field]
        for term in terms:
            match = name_matches(self.name_search_field, term)
            for field in others:
                match |= Q(**{f"{field}__icontains": term})
            queryset = queryset.filter(match)
        spawns = any(lookup_spawns_duplicates(self.opts, f) for f in [self.name_search_field, *others])
        return queryset, spawns
