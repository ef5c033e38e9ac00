"""Reading helpers shared by the real-dataset parsers (UCF101, HMDB51, VISPR, PA-HMDB, HVU).

Every parser reports a malformed annotation with :class:`AnnotationError`, whose
message starts with ``<file>:<line>:`` (or ``<file>:`` where the format has no
lines, e.g. a JSON value), so that a bad line in a 500 000-line CSV file can be
found at once. Files are read through :func:`mmengine.fileio.get`, so any
mmengine file backend (local disk, petrel, http) works.
"""
import json
from typing import Any, Callable, List, Optional, Sequence, Tuple

import numpy as np

__all__ = [
    'AnnotationError', 'OnBadItem', 'report_bad_item', 'read_lines', 'load_json', 'line_of',
    'decode_text', 'read_text'
]


class AnnotationError(ValueError):
    """A malformed annotation file; the message names the file and, if known, the line.

    Args:
        path (str): The annotation file.
        message (str): What is wrong.
        lineno (int, optional): 1-based line number of the offending line.
    """

    def __init__(self, path: str, message: str, lineno: Optional[int] = None) -> None:
        self.path = path
        self.lineno = lineno
        self.reason = message
        location = f'{path}:{lineno}' if lineno is not None else str(path)
        super().__init__(f'{location}: {message}')


#: What a parser does with one malformed line or entry: ``None`` raises it; a
#: callable (a dataset's bad-input policy, :mod:`spact_mm.datasets.bad_input`)
#: receives the error, and the parser drops the item and goes on.
OnBadItem = Optional[Callable[[AnnotationError], None]]


def report_bad_item(err: AnnotationError, on_bad_item: OnBadItem) -> None:
    """Raise ``err``, or hand it to ``on_bad_item`` (which may raise or record it)."""
    if on_bad_item is None:
        raise err
    on_bad_item(err)


_UTF16_BOMS = (b'\xff\xfe', b'\xfe\xff')


def decode_text(data: bytes, path: str) -> str:
    """Decode an annotation file's bytes as UTF-8, naming the file and line of a bad byte.

    A UTF-8 byte-order mark (Excel and Notepad write one) is dropped rather than
    becoming part of the first file name. UTF-16 (with its byte-order mark, or
    detected by NUL bytes) and other encodings are errors.

    Raises:
        AnnotationError: Naming the file and, for a bad byte, its line and column.
    """
    if data.startswith(b'\xef\xbb\xbf'):
        data = data[3:]
    if data.startswith(_UTF16_BOMS) or b'\x00' in data[:4096]:
        raise AnnotationError(path, 'the file is UTF-16 (or holds NUL bytes), not UTF-8 text; '
                              'save it as UTF-8')
    try:
        return data.decode('utf-8')
    except UnicodeDecodeError as e:
        line = data.count(b'\n', 0, e.start) + 1
        column = e.start - (data.rfind(b'\n', 0, e.start) + 1) + 1
        raise AnnotationError(path, f'not UTF-8 text: byte 0x{data[e.start]:02x} at column '
                              f'{column} cannot be decoded; save the file as UTF-8',
                              line) from e


def read_text(path: str) -> str:
    """The text of an annotation file (any mmengine file backend), via :func:`decode_text`."""
    from mmengine.fileio import get

    try:
        return decode_text(get(path), path)
    except FileNotFoundError as e:
        raise FileNotFoundError(f'annotation file not found: {path}') from e


def _read(path: str) -> str:
    return read_text(path)


def read_lines(path: str) -> List[Tuple[int, str]]:
    """Return ``(line number, line without trailing whitespace)`` for every non-blank line."""
    return [(i, line.rstrip()) for i, line in enumerate(_read(path).splitlines(), 1)
            if line.strip()]


def load_json(path: str) -> Tuple[Any, str]:
    """Load a JSON file; returns ``(value, raw text)``; syntax errors name file and line."""
    text = _read(path)
    try:
        return json.loads(text), text
    except json.JSONDecodeError as e:
        raise AnnotationError(path, f'invalid JSON: {e.msg} (column {e.colno})', e.lineno) from e


def line_of(text: str, key: str) -> Optional[int]:
    """1-based line of the first occurrence of the JSON string ``key`` in ``text``.

    JSON parsers drop positions; this recovers the line of an object key (e.g. a
    video name) so that errors found after parsing still point into the file.
    """
    for needle in (json.dumps(key, ensure_ascii=False), json.dumps(key)):
        pos = text.find(needle)
        if pos >= 0:
            return text.count('\n', 0, pos) + 1
    return None


def multi_hot(indices: Sequence[int], num_classes: int) -> np.ndarray:
    """Multi-hot float32 vector of length ``num_classes`` with ones at ``indices``.

    The ``privacy_label`` every privacy dataset packs for multi-label heads.
    """
    vec = np.zeros(num_classes, dtype=np.float32)
    vec[list(indices)] = 1.
    return vec
