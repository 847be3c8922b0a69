"""Admin search by name that forgives how a clerk types it (core.kana).

A search term matches when its folded form (hiragana or katakana, half- or
full-width, 髙/高, 﨑/崎 …) is part of a person's stored ``search_text``: one
``LIKE '%term%'`` on one column, which the trigram index of eligibility/0005 serves
at a million persons. Every term must match (as in Django's own search).
"""

from django.contrib.admin.utils import lookup_spawns_duplicates
from django.db.models import Q
from django.utils.text import smart_split, unescape_string_literal

from core.kana import fold_for_search


class FoldedNameSearchMixin:
    """Set ``name_search_field`` to the path of ``Person.search_text`` ("search_text",
    "person__search_text"); other ``search_fields`` (e.g. a serial) still match as usual."""

    name_search_field = "search_text"

    def get_search_results(self, request, queryset, search_term):
        terms = [unescape_string_literal(t) if t[:1] in ('"', "'") else t for t in smart_split(search_term or "")]
        if not terms:
            return queryset, False
        others = [f for f in self.get_search_fields(request) if f != self.name_search_field]
        for term in terms:
            folded = fold_for_search(term)
            match = Q(**{f"{self.name_search_field}__contains": folded}) if folded else Q(pk__in=[])
            for field in others:
                match |= Q(**{f"{field}__icontains": term})
            queryset = queryset.filter(match)
        spawns = any(lookup_spawns_duplicates(self.opts, f) for f in [self.name_search_field, *others])
        return queryset, spawns
