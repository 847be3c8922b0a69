"""Admin search by name and date of birth that forgives how a clerk types it.

Each term of the search box is either

- a date of birth, in any form staff write one (1985-04-12, 1985/4/12, 19850412,
  昭和60年4月12日, S60.4.12 — ``core.wareki.parse_date``): persons born that day; or
- a part of a name: its folded form (hiragana or katakana, half- or full-width,
  髙/高, 﨑/崎 … — ``core.kana``) must be part of the person's stored ``search_text``,
  which holds the family and given names run together (高橋陽翔 finds 高橋 陽翔, and so
  does 高橋 陽翔 or たかはしはると). One ``LIKE '%term%'`` on one column, served by the
  trigram index of eligibility/0005.

Every term must match (as in Django's own search): 「高橋 S60.4.12」 is that name born
that day.
"""

from django.contrib.admin.utils import lookup_spawns_duplicates
from django.db.models import Q

from .selectors import search_term_matches, search_terms


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
            match = search_term_matches(self.name_search_field, term)
            for field in others:
                match |= Q(**{f"{field}__icontains": term})
            queryset = queryset.filter(match)
        spawns = any(lookup_spawns_duplicates(self.opts, f) for f in [self.name_search_field, *others])
        return queryset, spawns
