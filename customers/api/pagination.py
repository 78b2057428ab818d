"""Cursor pagination: stable under concurrent inserts and O(1) deep into a million rows.

Every page also carries RFC 8288 ``Link`` headers, so clients of formats without a body to
hold the cursor (CSV) can page too.
"""

from rest_framework.pagination import CursorPagination
from rest_framework.response import Response


class StableCursorPagination(CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 1000
    ordering = "id"

    def get_ordering(self, request, queryset, view) -> tuple[str, ...]:
        """Any ?ordering= gets the primary key as a tie-breaker: on equal values (two Zhangs)
        the database may return rows in any order, and a cursor would skip or repeat them."""
        ordering = tuple(super().get_ordering(request, queryset, view))
        if not any(field.lstrip("-") in ("id", "pk") for field in ordering):
            ordering += ("-id" if ordering and ordering[0].startswith("-") else "id",)
        return ordering

    def get_paginated_response(self, data) -> Response:
        response = super().get_paginated_response(data)
        links = [
            f'<{url}>; rel="{rel}"'
            for rel, url in (("next", self.get_next_link()), ("prev", self.get_previous_link()))
            if url
        ]
        if links:
            response["Link"] = ", ".join(links)
        return response


class NewestFirstCursorPagination(StableCursorPagination):
    """For timelines: the latest activity first."""

    ordering = "-id"
