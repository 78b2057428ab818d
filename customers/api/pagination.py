"""Cursor pagination: stable under concurrent inserts and O(1) deep into a million rows."""

from rest_framework.pagination import CursorPagination


class StableCursorPagination(CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 1000
    ordering = "id"
