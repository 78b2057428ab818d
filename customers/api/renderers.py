"""XML and CSV renderers for the REST API, built so that what they emit parses back unchanged.

The matching parsers are in `customers.api.parsers`; the cell and element rules they share with
the file codecs and the exports in `integrations.formats` (`csv_cells`, `xml_elements`).
"""

from collections.abc import Mapping

from rest_framework_csv.renderers import CSVRenderer as LibraryCSVRenderer
from rest_framework_xml.renderers import XMLRenderer as _LibraryXMLRenderer

from integrations.formats.csv_cells import cell_text, column_path_and_header, flatten, line_writer
from integrations.formats.xml_elements import XMLDocument


class XMLRenderer(XMLDocument, _LibraryXMLRenderer):
    """`<root>` document by the element rules of `integrations.formats.xml_elements`: `xsi:nil`
    for None, `list-item` children for lists, `type="list"`/`type="object"` for empty ones.
    `element`, `document_start` and `document_end` (for streaming) come from `XMLDocument`."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return ""
        return XMLDocument.render(self, data)


class CSVRenderer(LibraryCSVRenderer):
    """One row per record; columns from the view's `csv_columns()`, else from the data.

    djangorestframework-csv's `render` (its `header` and `labels`, its csv writer) with rows
    from our `tablize`, by the cell rules of `integrations.formats.csv_cells`: nested objects
    flatten to dotted columns, lists join with "|", None is an empty cell and formula-like
    cells get a leading "'". Columns keep the declared or first-seen order (the library sorts
    the ones it discovers); a (path, header) column is the library's header and label. Error
    responses render as `field,message` rows instead of an empty record. `render` returns
    text, like the other renderers here.
    """

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return ""
        renderer_context = renderer_context or {}
        if _is_error(data, renderer_context.get("response")):
            columns, rows = ["field", "message"], _error_rows(data)
        else:
            rows = _records(data)
            csv_columns = getattr(renderer_context.get("view"), "csv_columns", None)
            columns = list(csv_columns()) if callable(csv_columns) else _discovered_columns(rows)
        if not columns:
            return ""  # an empty list and no view columns: nothing to name
        paths_and_headers = [column_path_and_header(column) for column in columns]
        context = {
            **renderer_context,
            "header": [path for path, _header in paths_and_headers],
            "labels": dict(paths_and_headers),
            "encoding": self.charset,
        }
        return super().render(rows, accepted_media_type, context).decode(self.charset)

    def tablize(self, data, header=None, labels=None):
        """The header's labels, then each record's cells in the header's order, by the fast
        line writer exports use (`csv_cells.line_writer`): the library's own `tablize` flattens
        every record into a dict and the cell rule then runs per value: 2.6 times slower."""
        labels = labels or {}
        yield [cell_text(labels.get(path, path)) for path in header]
        cells = line_writer(header).cells
        for row in data:
            yield cells(row)


def _is_error(data, response) -> bool:
    if response is not None:
        return response.status_code >= 400
    return (
        isinstance(data, Mapping)
        and "results" not in data
        and bool({"errors", "detail"} & set(data))
    )


def _records(data) -> list[Mapping]:
    if isinstance(data, Mapping) and isinstance(data.get("results"), list):
        data = data["results"]
    elif isinstance(data, Mapping) or not isinstance(data, list | tuple):
        data = [data]
    return [row if isinstance(row, Mapping) else {"value": row} for row in data]


def _discovered_columns(rows: list[Mapping]) -> list[str]:
    """Every flattened key in first-seen order (never sorted).

    Not just the first row's keys: a first contact without a company would otherwise hide
    `company.id`/`company.name` for every row. A bare key that is an object elsewhere
    (`company` = None here, `company.id` there) is dropped in favour of the dotted columns.
    """
    seen = dict.fromkeys(key for row in rows for key in flatten(row))
    return [key for key in seen if not any(other.startswith(f"{key}.") for other in seen)]


def _error_rows(errors, path: str = "") -> list[dict]:
    """{"email": ["Bad."], "items": [{}, {"id": ["Bad."]}]} -> (email, Bad.), (items.1.id, Bad.)"""
    if isinstance(errors, Mapping):
        return [
            row
            for key, value in errors.items()
            for row in _error_rows(value, f"{path}.{key}" if path else str(key))
        ]
    if isinstance(errors, list | tuple):
        if all(not isinstance(item, Mapping | list | tuple) for item in errors):
            return [{"field": path, "message": item} for item in errors]
        return [
            row
            for index, item in enumerate(errors)
            for row in _error_rows(item, f"{path}.{index}" if path else str(index))
        ]
    return [{"field": path, "message": errors}]
