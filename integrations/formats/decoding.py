"""Text of any supported encoding as UTF-8 bytes, deciding the encoding as the evidence comes.

The sample decides when it holds non-ASCII bytes. When it is plain ASCII, nothing is known yet:
the first chunk with a non-ASCII byte decides, with the same rules (everything before it was
ASCII, which reads the same in every encoding we accept). So a file whose first accented
letter is on row 5,000 is still read right, without reading the file twice.
"""

import codecs
import io

from integrations.formats.base import FormatError
from integrations.formats.sniffing import check_text, detect_encoding

_PASS_THROUGH = ("utf-8", "utf-8-sig")


class DecodingRaw(io.RawIOBase):
    """UTF-8 bytes from `raw`, which is in `encoding` (None: not decided yet)."""

    def __init__(self, raw: io.BufferedIOBase, encoding: str | None, *, read_size: int) -> None:
        self._raw = raw
        self._read_size = read_size
        self._decoder = None
        self._pending = memoryview(b"")
        self._offset = 0  # bytes of `raw` converted so far, for error messages
        self.encoding = None
        if encoding:
            self._commit(encoding)

    def _commit(self, encoding: str) -> None:
        self.encoding = encoding
        if encoding not in _PASS_THROUGH:
            self._decoder = codecs.getincrementaldecoder(encoding)()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._pending:
            chunk = self._raw.read(self._read_size)
            converted = self._convert(chunk, final=not chunk)
            if not chunk and not converted:
                return 0
            self._pending = memoryview(converted)
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size

    def _convert(self, chunk: bytes, *, final: bool) -> bytes:
        if self.encoding is None:
            if chunk.isascii():
                self._offset += len(chunk)
                return chunk
            encoding = detect_encoding(chunk, final=final)
            self._commit(encoding)
            check_text(codecs.decode(chunk, encoding, errors="replace"))
        if self._decoder is None:
            return chunk  # UTF-8: the text layer on top decodes (and checks) it
        try:
            text = self._decoder.decode(chunk, final)
        except UnicodeDecodeError as exc:
            raise FormatError(
                f"The file is not valid {self.encoding} at byte {self._offset + exc.start}: "
                "it mixes encodings. Give the right encoding, or save it again as UTF-8."
            ) from exc
        self._offset += len(chunk)
        return text.encode("utf-8")
