"""The lists that can be exported, each registered by the app that owns it.

``exports`` sits below the apps whose lists it writes: they register an ``Exporter``
(name, permission, header, rows) at import time, so this app never imports them.
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
    # Where staff go back to from the job's page (a URL name and args), optional.
    back_url: str = ""


_EXPORTERS: dict[str, Exporter] = {}


def register(exporter: Exporter) -> Exporter:
    _EXPORTERS[exporter.name] = exporter
    return exporter


def get(name: str) -> Exporter:
    return _EXPORTERS[name]
