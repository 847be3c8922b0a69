"""The lists that can be exported: one ``Exporter`` each (name, permission, header, rows).

``exports`` sits above the apps whose lists it writes (layer 3): its modules read them
(``exports.ex_officio``), and the lower apps' pages only link to ``staff:exports:start``.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Exporter:
    name: str
    label: str
    # Needed to start the export and to download its file.
    permission: str
    header: list[str]
    # rows(params=…, user=…) → an iterator of rows (lists of cells); count(params=…, user=…) → the row count.
    rows: Callable[..., Iterable[list]]
    count: Callable[..., int]
    # readable(params=…, user=…) → False when the list's filter cannot be read.
    readable: Callable[..., bool] = lambda **kwargs: True
    # Where staff go back to from the job's page (a URL name), optional.
    back_url: str = ""


_EXPORTERS: dict[str, Exporter] = {}


def register(exporter: Exporter) -> Exporter:
    _EXPORTERS[exporter.name] = exporter
    return exporter


def get(name: str) -> Exporter:
    return _EXPORTERS[name]
