"""A file to read, from a path or a binary file object, with its first bytes held for sniffing.

Only the sample is buffered, whether the file object can seek or not (an upload, a pipe, an
HTTP body): the codecs read the sample from memory and then the rest straight from the file.
"""

import codecs
import io
import os
from typing import BinaryIO

SAMPLE_SIZE = 64 * 1024
READ_SIZE = 256 * 1024
BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


class Source:
    def __init__(self, source) -> None:
        if isinstance(source, str | os.PathLike):
            self.name: str | None = os.fspath(source)
            self._file: BinaryIO = open(source, "rb")  # noqa: SIM115 - closed by close()
            self._owned = True
        elif callable(getattr(source, "read", None)):
            name = getattr(source, "name", None)
            self.name = name if isinstance(name, str) else None
            self._file = source
            self._owned = False
        else:
            raise TypeError(f"Expected a path or a binary file object, got {type(source)!r}.")
        try:
            self.sample = self._read_sample()
        except BaseException:
            self.close()
            raise
        self.at_eof = len(self.sample) < SAMPLE_SIZE
        self.bom, self.bom_encoding = next(
            ((bom, name) for bom, name in BOMS if self.sample.startswith(bom)), (b"", None)
        )

    def _read_sample(self) -> bytes:
        chunks, size = [], 0
        while size < SAMPLE_SIZE:  # a pipe or socket may return less than asked before its end
            chunk = self._file.read(SAMPLE_SIZE - size)
            if not chunk:
                break
            if isinstance(chunk, str):
                raise TypeError("Open the file in binary mode ('rb'): readers detect the encoding.")
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)

    def stream(self, *, skip: int = 0) -> io.BufferedReader:
        """The file's bytes from offset `skip` on (e.g. past a BOM), the sample included."""
        return io.BufferedReader(_PrefixedRaw(self.sample[skip:], self._file), READ_SIZE)

    def close(self) -> None:
        if self._owned:
            self._file.close()


class _PrefixedRaw(io.RawIOBase):
    """`prefix` then the rest of `file`, as an unseekable raw stream."""

    def __init__(self, prefix: bytes, file) -> None:
        self._prefix = memoryview(prefix)
        self._file = file

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._prefix:
            size = min(len(buffer), len(self._prefix))
            buffer[:size] = self._prefix[:size]
            self._prefix = self._prefix[size:]
            return size
        data = self._file.read(len(buffer))
        size = len(data)
        buffer[:size] = data
        return size
