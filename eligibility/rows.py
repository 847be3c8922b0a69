"""Model instances from a hand-written SELECT, for the few hot reads where compiling the
ORM's query costs more than running it (the member dashboard, issue 26): the columns of
each model under an alias, and each row's slice of them back as an instance, with the
database's converters applied as the ORM applies them (dates from SQLite, say).
"""

from django.db import connection


class Columns:
    """The concrete fields of ``model`` selected as ``alias.column``, from position
    ``start`` of each row (``chain`` lays several models out one after the other)."""

    def __init__(self, model, alias: str, start: int = 0):
        self.model = model
        fields = model._meta.concrete_fields
        self.start, self.end = start, start + len(fields)
        self.names = [f.attname for f in fields]
        self.pk_index = fields.index(model._meta.pk)
        self.select = ", ".join(f"{alias}.{connection.ops.quote_name(f.column)}" for f in fields)
        self.converters = []
        for i, field in enumerate(fields):
            column = field.get_col(alias)
            found = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
            if found:
                self.converters.append((i, found, column))

    @classmethod
    def chain(cls, *models: tuple) -> list["Columns"]:
        """``Columns`` of each (model, alias), laid out one after the other from position 0."""
        laid_out, start = [], 0
        for model, alias in models:
            laid_out.append(cls(model, alias, start))
            start = laid_out[-1].end
        return laid_out

    def instance(self, row):
        """This model's instance in ``row``, or None where an outer join found none."""
        values = list(row[self.start:self.end])
        if values[self.pk_index] is None:
            return None
        for i, converters, column in self.converters:
            for convert in converters:
                values[i] = convert(values[i], column, connection)
        return self.model.from_db(connection.alias, self.names, values)
