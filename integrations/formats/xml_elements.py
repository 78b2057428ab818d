"""The XML element rules every door and file shares: how a value becomes an element and back.

A document is `<root>` with one element per field: None is `xsi:nil="true"`, a list holds
`<list-item>` children, an empty list or object is marked `type="list"`/`type="object"` (so it
does not come back as ""), and a key that is not a valid element name (the integer keys of
errors for list items) is written `<item key="…">`. Leaves are text; reading never types them.

The REST renderer and parser, the file writer and reader, the export encoders and the SOAP door
all use these rules, so what one writes another reads back unchanged. Reading raises
`FormatError`; each door says it in its own terms (the REST parser as a 400).
"""

import re
from xml.etree.ElementTree import Element
from xml.sax.saxutils import escape, quoteattr

from integrations.formats.base import FormatError
from integrations.formats.csv_cells import plain, scalar_text

XSI_NAMESPACE = "http://www.w3.org/2001/XMLSchema-instance"
ROOT_TAG = "root"
LIST_ITEM_TAG = "list-item"
#: Element names written as they are; any other key is written as ``<item key="…">``.
XML_NAME = re.compile(r"^[^\W\d][\w.-]*$")
# Not allowed anywhere in an XML 1.0 document, not even as character references.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Attribute values are whitespace-normalised by parsers unless written as references.
_ATTRIBUTE_WHITESPACE = {"\r": "&#13;", "\n": "&#10;", "\t": "&#9;"}
_XSI_NIL = f"{{{XSI_NAMESPACE}}}nil"
#: Far deeper than any record (a record is 3 levels, a batch 5); stops a deeply nested body
#: from exhausting the Python stack or the serializers' time.
MAX_XML_DEPTH = 32


def xml_text(text: str) -> str:
    """Escape text content; characters XML 1.0 cannot carry become U+FFFD.

    Replacing (rather than refusing with a 500) keeps a record with a stray control character
    readable in XML; JSON still carries the exact value. "\\r" is written as a character
    reference because XML parsers turn a literal CR (or CRLF) into "\\n".
    """
    return escape(_XML_ILLEGAL.sub("\ufffd", text), {"\r": "&#13;"})


def xml_element(name, value, *, item_tag: str = LIST_ITEM_TAG) -> str:
    """One element as text, children included: streaming writers emit a record at a time."""
    parts: list[str] = []
    _write_element(parts, name, value, {}, item_tag)
    return "".join(parts)


def xml_document(
    data, *, root_tag: str = ROOT_TAG, item_tag: str = LIST_ITEM_TAG, charset: str = "utf-8"
) -> str:
    """A whole document: the XML declaration, then `data` as the root element."""
    parts = [f'<?xml version="1.0" encoding="{charset}"?>\n']
    _write_element(parts, root_tag, data, {"xmlns:xsi": XSI_NAMESPACE}, item_tag)
    return "".join(parts)


def xml_document_start(
    *, root_tag: str = ROOT_TAG, charset: str = "utf-8", as_list: bool = False
) -> str:
    """What `xml_document` writes before the root's content, for streaming. `as_list` marks
    the root as a list, so a document with no records reads back as [] rather than ""."""
    marker = ' type="list"' if as_list else ""
    return (
        f'<?xml version="1.0" encoding="{charset}"?>\n'
        f'<{root_tag} xmlns:xsi="{XSI_NAMESPACE}"{marker}>'
    )


def xml_document_end(*, root_tag: str = ROOT_TAG) -> str:
    return f"</{root_tag}>"


class XMLDocument:
    """The element rules bound to one root and list-item tag: the shape the REST renderer and
    the streaming writers share (`document_start`, one `element` per record, `document_end`)."""

    root_tag_name = ROOT_TAG
    item_tag_name = LIST_ITEM_TAG
    charset = "utf-8"

    def render(self, data) -> str:
        return xml_document(
            data, root_tag=self.root_tag_name, item_tag=self.item_tag_name, charset=self.charset
        )

    def element(self, name: str, value) -> str:
        return xml_element(name, value, item_tag=self.item_tag_name)

    def document_start(self, *, as_list: bool = False) -> str:
        return xml_document_start(
            root_tag=self.root_tag_name, charset=self.charset, as_list=as_list
        )

    def document_end(self) -> str:
        return xml_document_end(root_tag=self.root_tag_name)


def _write_element(parts: list[str], name, value, attrs: dict, item_tag: str) -> None:
    value = plain(value)
    name = str(name)
    if not XML_NAME.match(name):
        attrs = {**attrs, "key": _XML_ILLEGAL.sub("\ufffd", name)}
        name = "item"
    if value is None:
        attrs = {**attrs, "xsi:nil": "true"}
    elif isinstance(value, list | tuple) and not value:
        attrs = {**attrs, "type": "list"}
    elif isinstance(value, dict) and not value:
        attrs = {**attrs, "type": "object"}
    attributes = "".join(
        f" {key}={quoteattr(text, _ATTRIBUTE_WHITESPACE)}" for key, text in attrs.items()
    )
    if value is None or value in ([], (), {}, ""):
        parts.append(f"<{name}{attributes}/>")
        return
    parts.append(f"<{name}{attributes}>")
    if isinstance(value, dict):
        for key, child in value.items():
            _write_element(parts, key, child, {}, item_tag)
    elif isinstance(value, list | tuple):
        for item in value:
            _write_element(parts, item_tag, item, {}, item_tag)
    else:
        parts.append(xml_text(scalar_text(value)))
    parts.append(f"</{name}>")


def xml_value(element: Element, *, depth: int = 0):
    """The value an element written by these rules stands for: xsi:nil -> None, an empty leaf
    -> "", `list-item` children -> a list, `<item key="…">` -> that key; leaves stay text.

    Raises `FormatError` for what no writer of ours produces and a reader must not guess at:
    nesting past `MAX_XML_DEPTH`, text mixed with child elements, a repeated child.
    """
    if depth > MAX_XML_DEPTH:
        raise FormatError(f"XML is nested more than {MAX_XML_DEPTH} levels deep.")
    if element.get(_XSI_NIL) in ("true", "1"):
        return None
    children = list(element)
    if not children:
        if element.get("type") == "list":
            return []
        if element.get("type") == "object":
            return {}
        return element.text or ""
    if (element.text or "").strip() or any((child.tail or "").strip() for child in children):
        raise FormatError(f"XML element <{local_name(element)}> mixes text with child elements.")
    names = [local_name(child) for child in children]
    if all(name == LIST_ITEM_TAG for name in names):
        return [xml_value(child, depth=depth + 1) for child in children]
    data = {}
    for child, name in zip(children, names, strict=True):
        key = child.get("key", name) if name == "item" else name
        if name == LIST_ITEM_TAG or key in data:
            raise FormatError(
                f"XML element <{local_name(element)}> has a repeated or misplaced child <{name}>; "
                "repeat only <list-item> elements, and only on their own."
            )
        data[key] = xml_value(child, depth=depth + 1)
    return data


def local_name(element: Element) -> str:
    """Tag without a namespace, so a client's default xmlns does not leak into field names."""
    return element.tag.rpartition("}")[2]


def xml_node_count(body: bytes) -> int:
    """Elements (each ends in "</" or "/>") plus attributes (each has `="` or `='`), counted
    before the document is parsed, so a tree of millions is never built; exact for well-formed
    XML unless text holds those pairs. The REST and SOAP doors both bound bodies by it."""
    return sum(body.count(mark) for mark in (b"</", b"/>", b'="', b"='"))
