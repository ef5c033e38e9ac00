"""Reading helpers shared by the real-dataset parsers (UCF101, HMDB51, VISPR, PA-HMDB, HVU).

Every parser reports a malformed annotation with :class:`AnnotationError`, whose
message starts with ``<file>:<line>:`` (or ``<file>:`` where the format has no
lines, e.g. a JSON value), so that a bad line in a 500 000-line CSV file can be
found at once. Files are read through :func:`mmengine.fileio.get_text`, so any
mmengine file backend (local disk, petrel, http) works.
"""
import json
from typing import Any, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.fileio import get_text

__all__ = ['AnnotationError', 'read_lines', 'load_json', 'line_of']


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
        location = f'{path}:{lineno}' if lineno is not None else str(path)
        super().__init__(f'{location}: {message}')


def _read(path: str) -> str:
    try:
        # utf-8-sig: also accepts files saved with a byte-order mark (Excel CSV exports).
        return get_text(path, encoding='utf-8-sig')
    except FileNotFoundError as e:
        raise FileNotFoundError(f'annotation file not found: {path}') from e
    except UnicodeDecodeError as e:
        raise AnnotationError(path, f'not UTF-8 text ({e})') from e


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
