"""Exact KSG neighbour counts under the max-norm, screened with int16 distances (the CPU fast path).

KSG with max-norm (Chebyshev) marginals spends nearly all its time on the n^2 x d coordinate
differences. This module does that work in int16, then recovers the float answer exactly:

1. Both marginals are quantised with one common step ``h``: ``q = round(a / h)``, with
   ``|q| <= QUANT_MAX = 16383`` so that every difference fits in int16. Per coordinate
   ``|a - h q| <= h / 2``, so a pair's max-norm distance D and its quantised distance Dq satisfy
   ``|D - h Dq| <= h`` (the max is 1-Lipschitz). The float32 distance that the blockwise path
   computes differs from D by rounding, under 0.002 h here, so ``|D32 - h Dq| < 1.002 h``.
2. The int16 distance matrices are computed strip by strip, on and right of the diagonal only
   (:class:`QuantisedDistances`): half the pairs, at half the bytes per entry of float32. The
   left parts of later rows are copied, transposed, from the kept strips.
3. The k nearest joint neighbours: the K = k + ``EXTRA_CANDIDATES`` smallest quantised joint
   distances of each row hold every point that can be among the true k nearest whenever the K-th
   is more than 2 steps above the k-th (the bound in step 1, twice). Their exact float
   distances give the k-th neighbour distance eps exactly. Rows where the bound fails (ties in
   discrete data) are searched exactly over all points instead.
4. Counts below a radius r: a pair with ``Dq < floor(r / h) - 1`` is surely inside, one with
   ``Dq >= floor(r / h) + 3`` surely outside; the few pairs in the band between (about one per
   row and marginal on continuous data) are decided by their exact float distance.

So the counts, and the estimate, are those of the blockwise float path (tests check this), at
about half its time for n = 5000 and 25+25 dimensions on 2 cores.

Threads are chosen by measurement, on every call: in the first strip, a few coordinates are done
with one thread and as many with torch's threads, the rest of the call runs with the faster, and
it returns to one thread if a later strip shows several threads slower than one.
Each step here is one of thousands of elementwise operations of a few milliseconds; when other
processes hold the cores, every operation with several threads waits for a descheduled thread
(measured on 2 shared cores: 16 s with 2 threads, 0.8 s with 1, for n = 5000, 25+25). Memory is the kept strips,
n^2 int16 for both marginals together (800 MB at n = 20,000), and blocks of BLOCK_ROWS rows.
:func:`applies` says when :func:`.knn.ksg_nats` takes this path.
"""

from __future__ import annotations

import contextlib
import time

import torch

QUANT_MAX = 16383  # largest |quantised coordinate|: differences stay within int16
INT16_MAX = 32767  # the distance of a point to itself and to padding columns: never a neighbour
EXTRA_CANDIDATES = 4  # neighbour candidates beyond k, per row
FOLD = 16  # columns per group in the searches of _smallest and _entries_below
BAND = 4  # quantisation steps around a radius decided exactly
MIN_COORDINATES = 16  # dx + dy from which this path is faster (n = 5000 on 2 cores: 8+8 0.22 s against 0.28 s)
MAX_SCALE_RATIO = 16  # of the marginals' largest |coordinate|: the smaller still gets 1/16 of the int16 range
BLOCK_ROWS = 1024  # rows per block of the neighbour and count steps
STRIP_ROWS = 128  # rows per strip of the distance loop
PROBE_COORDINATES = 4  # coordinates of the first strip timed with one thread, and as many with several
PARALLEL_GAIN = 0.8  # several threads are kept when their time per entry is below this x one thread's
REFINE_PAIRS = 1 << 18  # exact distances computed per step when deciding band pairs
FALLBACK_ELEMENTS = 1 << 22  # float differences per step of the exact neighbour search of tied rows
# Discrete data (saturated units, binned values) tie in the quantised distances; past these limits
# in a block, the exact decisions would cost more than the float loop, and ksg_counts gives up.
MAX_TIED_ROWS = 0.25  # fraction of a block's rows whose neighbour search needs all points
MAX_BAND_PER_ROW = 16  # pairs per row and marginal left to the float distance


class TooManyTies(Exception):
    """The data tie so often in int16 that the blockwise float path is faster (discrete data)."""


def applies(x: torch.Tensor, y: torch.Tensor) -> bool:
    """Whether this path serves x (n, dx) and y (n, dy): on CPU (elsewhere float is as fast),
    from MIN_COORDINATES = dx + dy on (below, the float loop is short and the fixed costs here
    dominate), for padded n <= INT16_MAX (the counts are int16 sums), and for marginals of
    comparable scale (their common step h must resolve both; standardised data always are)."""
    n = x.shape[0]
    if x.device.type != "cpu" or x.shape[1] + y.shape[1] < MIN_COORDINATES or n < 2 or _padded(n) > INT16_MAX:
        return False
    largest_x, largest_y = float(x.abs().max()), float(y.abs().max())
    return min(largest_x, largest_y) * MAX_SCALE_RATIO >= max(largest_x, largest_y) > 0


def _padded(n: int) -> int:
    """Columns of the distance blocks: n rounded up to a multiple of FOLD (see :func:`_smallest`)."""
    return -(-n // FOLD) * FOLD


def quantisation_step(x: torch.Tensor, y: torch.Tensor) -> float:
    """The common step h of both marginals, so that |a / h| <= QUANT_MAX for every coordinate."""
    largest = float(torch.maximum(x.abs().max(), y.abs().max()))
    return largest / QUANT_MAX if largest > 0 else 1.0


def quantise(a: torch.Tensor, h: float, dims: int, width: int) -> torch.Tensor:
    """round(a / h) as int16, coordinates as rows: (dims, width). Columns from n on are zero;
    rows from a's d on repeat coordinate 0, which leaves every max-norm distance unchanged."""
    n, d = a.shape
    q = torch.zeros((dims, width), dtype=torch.int16)
    q[:d, :n] = torch.round(a.T.to(torch.float64) / h)
    q[d:] = q[0]
    return q


@contextlib.contextmanager
def num_threads(threads: int):
    """torch's intra-op threads set to ``threads`` inside the block, restored after it."""
    before = torch.get_num_threads()
    if threads != before:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        if threads != before:
            torch.set_num_threads(before)


class QuantisedDistances:
    """The int16 max-norm distance matrices of m marginals, handed out as blocks of full rows.

    Block after block (in order), only the strip on and right of the diagonal is computed, one
    coordinate at a time (subtract, abs, running max, in place on contiguous blocks that stay in
    cache, all marginals in one operation); the part left of the diagonal is copied, transposed,
    from earlier strips, which are kept: m n^2 / 2 int16 in all. A point's distance to itself and
    to the padding columns (from n on) is INT16_MAX, so that neither is ever a neighbour.

    ``threads``: torch's thread count for the strips and the rest of the call; None until the
    first strip has been timed (see :meth:`_strip`).
    """

    def __init__(self, q: torch.Tensor, n: int):
        self.q, self.n = q, n  # q: (d, m, width) quantised coordinates, see quantise()
        self.strips: list[tuple[int, torch.Tensor]] = []
        self.work = torch.empty(q.shape[1] * STRIP_ROWS * n, dtype=torch.int16)  # reused by every strip
        self.threads = None if torch.get_num_threads() > 1 else 1
        self.single_seconds = 0.0  # per coordinate and entry of the first strip, with one thread

    def rows(self, start: int, out: torch.Tensor) -> torch.Tensor:
        """Write the distances of the points start ... start + r - 1 into ``out`` (m, r, width)."""
        r, n = out.shape[1], self.n
        done = self.strips[-1][0] + self.strips[-1][1].shape[1] if self.strips else 0
        if start != done:
            raise ValueError(f"row blocks must be asked for in order: expected row {done}, got {start}")
        for first in range(start, start + r, STRIP_ROWS):
            self.strips.append((first, self._strip(first, min(STRIP_ROWS, start + r - first))))
        for first, strip in self.strips:
            last = first + strip.shape[1]
            below = max(start, last)  # the block's rows below this strip's: transposed from it
            if below < start + r:
                out[:, below - start :, first:last] = strip[:, :, below - first : start + r - first].transpose(1, 2)
            if first >= start:
                out[:, first - start : last - start, first:n] = strip
        out[:, :, n:] = INT16_MAX
        out[:, :, start : start + r].diagonal(dim1=1, dim2=2).fill_(INT16_MAX)
        return out

    def _strip(self, first: int, r: int) -> torch.Tensor:
        """(m, r, n - first) distances of the points first ... first + r - 1 to first ... n - 1.

        While :attr:`threads` is None, PROBE_COORDINATES coordinates are done with one thread and
        as many with torch's threads, timed; several threads are kept only when clearly faster
        per entry. A later strip whose multi-threaded coordinates are slower per entry than the
        single-threaded probe returns the call to one thread (other processes took a core since),
        so contention costs part of one strip at most.
        """
        strip = torch.empty((self.q.shape[1], r, self.n - first), dtype=torch.int16)
        diff = self.work[: strip.numel()].view(strip.shape)
        left = self.q[:, :, first : first + r, None].unbind(0)
        right = self.q[:, :, None, first : self.n].unbind(0)
        pairs = list(zip(left[1:], right[1:], strict=True))
        several = torch.get_num_threads()
        if self.threads is None:
            probe = min(PROBE_COORDINATES, len(pairs) // 2)
            single = _max_abs_into(strip, diff, (left[0], right[0]), pairs[:probe], 1)
            multi = _max_abs_into(strip, diff, None, pairs[probe : 2 * probe], several)
            self.single_seconds = single / (probe + 1) / strip.numel()
            self.threads = several if multi < PARALLEL_GAIN * single * probe / (probe + 1) else 1
            pairs = pairs[2 * probe :]
            seconds = _max_abs_into(strip, diff, None, pairs, self.threads)
        else:
            seconds = _max_abs_into(strip, diff, (left[0], right[0]), pairs, self.threads)
            pairs = [None, *pairs]
        if self.threads > 1 and pairs and seconds / len(pairs) / strip.numel() > self.single_seconds:
            self.threads = 1
        return strip


def _max_abs_into(strip, diff, start, pairs, threads: int) -> float:
    """strip = max(strip, |a - b|) over the coordinate pairs (a, b), with ``threads`` threads,
    after strip = |a - b| for the pair ``start`` (unless None); the seconds taken."""
    with num_threads(threads):
        began = time.perf_counter()
        if start is not None:
            torch.sub(*start, out=strip).abs_()
        for a, b in pairs:
            torch.maximum(strip, torch.sub(a, b, out=diff).abs_(), out=strip)
        return time.perf_counter() - began


def exact_distances(a: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
    """Float max-norm distances between the points ``rows`` and ``cols`` of ``a`` (same shapes).

    The same operations as the blockwise loop in :mod:`.knn` (subtract, abs, max), so the same
    values, bit for bit.
    """
    return (a[rows] - a[cols]).abs_().amax(dim=-1)


def _fold_min(t: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """Fold the columns of (r, c) ``t`` into c / FOLD by the elementwise minimum of left and right
    halves, repeatedly, inside ``out`` (a block like ``t``).

    Column m of the result is the minimum of columns m + j c / FOLD of ``t``, j < FOLD: its group.
    """
    half = t.shape[1] // 2
    folded = torch.minimum(t[:, :half], t[:, half:], out=out[:, :half])
    while folded.shape[1] > t.shape[1] // FOLD:
        half = folded.shape[1] // 2
        folded = torch.minimum(folded[:, :half], folded[:, half:], out=folded[:, :half])
    return folded


def _group_columns(group: torch.Tensor, c: int) -> torch.Tensor:
    """The columns of ``group`` (any shape) in (r, c) blocks grouped by :func:`_fold_min`: shape + (FOLD,)."""
    return group[..., None] + (c // FOLD) * torch.arange(FOLD)


def _smallest(values: torch.Tensor, count: int, work: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``count`` smallest entries of each row of (r, c) ``values``, sorted: (values, columns).

    The same values as ``torch.topk``, several times faster for large c: only the ``count``
    groups (see :func:`_fold_min`) with the smallest minima are searched. They hold the ``count``
    smallest entries: an entry outside them is at or above its own group's minimum, so at or
    above ``count`` chosen minima. ``work`` is a block like ``values``.
    """
    if count > values.shape[1] // FOLD:  # fewer groups than entries wanted (small n)
        best = torch.topk(values, count, dim=1, largest=False, sorted=True)
        return best.values, best.indices
    mins = _fold_min(values, work)
    chosen = torch.topk(mins, count, dim=1, largest=False, sorted=False).indices
    cols = _group_columns(chosen, values.shape[1]).flatten(1)
    best, pos = torch.topk(values.gather(1, cols), count, dim=1, largest=False, sorted=True)
    return best, cols.gather(1, pos)


def _entries_below(t: torch.Tensor, bound: int, work: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(row, column) of the entries of a contiguous (r, c) tensor below ``bound``, sorted by row.

    When they are few, several times faster than ``(t < bound).nonzero()``: only the groups (see
    :func:`_fold_min`) whose minimum is below ``bound`` are opened. ``work`` is a block like ``t``.
    """
    r, c = t.shape
    row, group = (_fold_min(t, work) < bound).nonzero(as_tuple=True)
    entry = (row[:, None] * c + _group_columns(group, c)).flatten()
    entry = entry[t.view(-1)[entry] < bound]
    return entry // c, entry % c


def _count_below(
    dist: torch.Tensor,
    radius: torch.Tensor,
    strict: bool,
    h: float,
    points: tuple[torch.Tensor, torch.Tensor],
    row0: int,
    work: tuple[torch.Tensor, torch.Tensor],
) -> torch.Tensor:
    """Per row of the stacked int16 distance block ``dist`` (2r, width), #{j: D_ij < radius}
    (``strict``) or <= radius, exact, as int64. Rows i < r hold the x distances of point row0 + i,
    the others the y distances of point row0 + i - r; ``points`` is (x, y) and ``work`` two int16
    blocks like ``dist``.

    With s = floor(radius / h), entries below s - 1 are surely inside and entries from s + 3 on
    surely outside (module docstring); the band of BAND steps from lo = s - 1 is decided exactly.
    """
    steps = torch.floor(radius.to(torch.float64) / h)
    lo = (steps - 1).clamp(0, INT16_MAX - BAND).to(torch.int16)
    # shifted = dist - lo - 2**15, wrapping around in int16: entries below lo (surely inside) are
    # >= 0, and the band lo <= dist < lo + BAND is the bottom of the range, below -2**15 + BAND.
    shifted = torch.sub(dist, (lo.to(torch.int32) - 2**15).to(torch.int16)[:, None], out=work[0])
    not_inside = torch.clamp(shifted, -1, 0, out=work[1]).sum(dim=1, dtype=torch.int16)  # -count
    counts = dist.shape[1] + not_inside.to(torch.int64)
    band_row, band_col = _entries_below(shifted, -(2**15) + BAND, work[1])
    if band_row.numel() > MAX_BAND_PER_ROW * dist.shape[0]:
        raise TooManyTies(f"{band_row.numel()} pairs lie within {BAND} steps of their radius")
    r = dist.shape[0] // 2
    for part in range(0, band_row.numel(), REFINE_PAIRS):
        rows, cols = band_row[part : part + REFINE_PAIRS], band_col[part : part + REFINE_PAIRS]
        in_x = int(torch.searchsorted(rows, r))  # rows are sorted: the x rows come first
        d = torch.cat([
            exact_distances(points[0], rows[:in_x] + row0, cols[:in_x]),
            exact_distances(points[1], rows[in_x:] - r + row0, cols[in_x:]),
        ])  # fmt: skip
        inside = (d < radius[rows]) if strict else (d <= radius[rows])
        counts += torch.bincount(rows[inside], minlength=counts.numel())
    return counts


def _nearest(
    joint: torch.Tensor, x: torch.Tensor, y: torch.Tensor, row0: int, k: int, work: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Exact float (x, y) distances from each row's point to its k nearest joint neighbours,
    (r, k) each, in order; ``joint`` is the int16 block of joint (max-norm) distances of the
    points row0, row0 + 1, ..., and ``work`` a block like it."""
    r, n = joint.shape[0], x.shape[0]
    rows = torch.arange(row0, row0 + r)
    n_cand = min(k + EXTRA_CANDIDATES, n - 1)
    values, cand = _smallest(joint, n_cand, work)
    # Every point that can be among the k nearest is a candidate when the last candidate is more
    # than 2 steps above the k-th (or when all n - 1 other points are candidates).
    complete = values[:, -1].to(torch.int32) > values[:, k - 1].to(torch.int32) + 2
    complete |= n_cand == n - 1
    ex = exact_distances(x, rows[:, None], cand)
    ey = exact_distances(y, rows[:, None], cand)
    # Ties in the quantised distances (discrete data): search all points for these rows, a few
    # rows at a time (each needs an (n, d) difference tensor).
    redo = torch.nonzero(~complete).flatten()
    if redo.numel() > MAX_TIED_ROWS * r:
        raise TooManyTies(f"{redo.numel()} of {r} rows tie around their k-th neighbour")
    step = max(1, FALLBACK_ELEMENTS // (n * max(x.shape[1], y.shape[1])))
    for part in range(0, redo.numel(), step):
        some = redo[part : part + step]
        every = torch.arange(n).expand(some.numel(), n)
        fx, fy = exact_distances(x, rows[some, None], every), exact_distances(y, rows[some, None], every)
        full = torch.maximum(fx, fy)
        full[torch.arange(some.numel()), rows[some]] = float("inf")
        order = torch.topk(full, k, dim=1, largest=False, sorted=True).indices
        ex[some, :k], ey[some, :k] = fx.gather(1, order), fy.gather(1, order)
        ex[some, k:] = ey[some, k:] = float("inf")
    order = torch.topk(torch.maximum(ex, ey), k, dim=1, largest=False, sorted=True).indices
    return ex.gather(1, order), ey.gather(1, order)


def ksg_counts(x: torch.Tensor, y: torch.Tensor, k: int, algorithm: int) -> tuple[torch.Tensor, torch.Tensor]:
    """KSG's marginal counts (n_x, n_y) for every point, as int64, from float CPU x and y.

    Algorithm 1: points strictly closer than the k-th joint neighbour, in each marginal.
    Algorithm 2: points within the largest marginal distance among the k joint neighbours.
    Identical to the counts of the blockwise float path in :func:`.knn.ksg_nats`. Raises
    :class:`TooManyTies` (usually in the first block) when that path would be faster.
    """
    n = x.shape[0]
    h = quantisation_step(x, y)
    width, dims = _padded(n), max(x.shape[1], y.shape[1])
    distances = QuantisedDistances(torch.stack([quantise(a, h, dims, width) for a in (x, y)], dim=1), n)
    block = min(n, BLOCK_ROWS)
    # The x and y distances of a block of rows are stacked, x above y: one call of each
    # operation serves both marginals.
    dist, work0, work1 = (torch.empty(2 * block * width, dtype=torch.int16) for _ in range(3))
    n_x, n_y = [], []
    # The first block is one strip: data that tie too often (TooManyTies) are found cheaply, and
    # it is timed to choose the thread count (QuantisedDistances.threads).
    starts = [0, *range(min(n, STRIP_ROWS), n, block)]
    for start, stop in zip(starts, [*starts[1:], n], strict=True):
        r = stop - start
        with num_threads(distances.threads or torch.get_num_threads()):  # None only in the first block
            d = distances.rows(start, dist[: 2 * r * width].view(2, r, width))
        with num_threads(distances.threads):
            counts = _block_counts(d, x, y, start, k, algorithm, h, (work0, work1))
        n_x.append(counts[:r])
        n_y.append(counts[r:])
    return torch.cat(n_x), torch.cat(n_y)


def _block_counts(
    d: torch.Tensor, x: torch.Tensor, y: torch.Tensor, start: int, k: int, algorithm: int, h: float, work
) -> torch.Tensor:
    """The counts (2r,) of the points start ... start + r - 1, x above y, from their int16
    distances ``d`` (2, r, width); ``work`` is two int16 buffers of at least d's size."""
    r, width = d.shape[1], d.shape[2]
    w0, w1 = (w[: 2 * r * width].view(2 * r, width) for w in work)
    ex, ey = _nearest(torch.maximum(d[0], d[1], out=w0[:r]), x, y, start, k, w1[:r])
    if algorithm == 1:
        eps = torch.maximum(ex[:, -1], ey[:, -1])
        radius = torch.cat([eps, eps])
    else:
        radius = torch.cat([ex.amax(dim=1), ey.amax(dim=1)])
    return _count_below(d.view(2 * r, width), radius, algorithm == 1, h, (x, y), start, (w0, w1))
