"""The IDX file format of MNIST (LeCun et al.): a reader and a writer.

An IDX file is a 4-byte magic number ``0x00 0x00 <type> <ndim>``, then ``ndim`` big-endian
uint32 dimension sizes, then the data in C order, big-endian. Files ending in ``.gz`` (or
starting with the gzip magic) are decompressed first. Every malformed file raises ValueError
naming the file and what is wrong.
"""

from __future__ import annotations

import gzip
import math
import struct
import zlib
from pathlib import Path

import numpy as np

# type code -> big-endian dtype
IDX_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
GZIP_MAGIC = b"\x1f\x8b"


def _read_bytes(path: Path) -> bytes:
    if not path.is_file():
        raise ValueError(f"IDX file {str(path)!r} does not exist")
    raw = path.read_bytes()
    if path.suffix == ".gz" or raw[:2] == GZIP_MAGIC:
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as err:
            raise ValueError(f"IDX file {str(path)!r} is not a readable gzip file: {err}") from err
    return raw


def read_idx(path: str | Path) -> np.ndarray:
    """The array in an IDX file (optionally gzipped), in native byte order."""
    path = Path(path)
    raw = _read_bytes(path)
    if len(raw) < 4:
        raise ValueError(f"IDX file {str(path)!r} is truncated: {len(raw)} bytes, shorter than the 4-byte magic number")
    zero, type_code, ndim = raw[:2], raw[2], raw[3]
    if zero != b"\x00\x00" or type_code not in IDX_TYPES:
        known = ", ".join(f"0x{c:02X}" for c in IDX_TYPES)
        raise ValueError(
            f"IDX file {str(path)!r} has a bad magic number {raw[:4].hex(' ')}: expected 00 00 <type> <ndim>, "
            f"type one of {known}"
        )
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(
            f"IDX file {str(path)!r} is truncated: its header needs {header} bytes for {ndim} dimensions, "
            f"the file has {len(raw)}"
        )
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = IDX_TYPES[type_code]
    expected = math.prod(shape) * dtype.itemsize
    found = len(raw) - header
    if found < expected:
        raise ValueError(
            f"IDX file {str(path)!r} is truncated: shape {shape} of {dtype.name} needs {expected} bytes of data, "
            f"found {found}"
        )
    if found > expected:
        raise ValueError(
            f"IDX file {str(path)!r} has {found - expected} bytes after the data of shape {shape} ({dtype.name})"
        )
    data = np.frombuffer(raw, dtype=dtype, count=math.prod(shape), offset=header).reshape(shape)
    return data.astype(dtype.newbyteorder("="))


def write_idx(path: str | Path, array: np.ndarray) -> None:
    """Write ``array`` as an IDX file; gzipped when ``path`` ends in ``.gz``."""
    path = Path(path)
    array = np.asarray(array)
    codes = {dtype.newbyteorder("="): code for code, dtype in IDX_TYPES.items()}
    native = array.dtype.newbyteorder("=")
    if native not in codes:
        raise ValueError(f"IDX file {str(path)!r}: dtype {array.dtype} has no IDX type code")
    if array.ndim > 255:
        raise ValueError(f"IDX file {str(path)!r}: {array.ndim} dimensions, at most 255")
    content = (
        bytes([0, 0, codes[native], array.ndim])
        + struct.pack(f">{array.ndim}I", *array.shape)
        + np.ascontiguousarray(array, dtype=IDX_TYPES[codes[native]]).tobytes()
    )
    path.write_bytes(gzip.compress(content) if path.suffix == ".gz" else content)
