"""Images with known MI: the maps are injective (the source comes back from the image), the sources
carry the MI they claim, and an MI outside the supported range is an error naming the key."""

import math

import numpy as np
import pytest
from infoplane.tasks import make_task
from infoplane.tasks.images import (
    ImageTask,
    UniformCircleTask,
    bump_centres,
    rectangle_corners,
    rectangle_edges,
)

LN2 = math.log(2)


@pytest.mark.parametrize("source", ["gaussian", "uniform"])
@pytest.mark.parametrize("size", [16, 32])
def test_gaussian_bumps_recover_their_source(source, size):
    task = make_task("gaussian_bumps", mi_bits=3.0, source=source, size=size)
    u, _ = task.sample_sources(300, seed=1)
    images = task.render(u)
    assert images.shape == (300, size, size) and images.dtype == np.float32
    # float32 pixels resolve the centre to ~1e-4 of the image side; pixels are 1/size apart
    np.testing.assert_allclose(bump_centres(images, task.width), u, atol=2e-3)


@pytest.mark.parametrize("source", ["gaussian", "uniform"])
def test_rectangles_recover_their_source(source):
    task = make_task("rectangles", mi_bits=5.0, source=source, size=32)
    u, _ = task.sample_sources(300, seed=2)
    images = task.render(u)
    edges = rectangle_edges(u, task.min_size)
    assert (edges[:, 1] - edges[:, 0] >= task.min_size - 1e-12).all()
    assert (edges[:, 3] - edges[:, 2] >= task.min_size - 1e-12).all()
    got = rectangle_corners(images)
    np.testing.assert_allclose(got, edges, atol=1e-5)
    # and from the edges back to the source: the corner map inverts
    m = task.min_size
    u0 = got[:, 0] / (1 - m)
    u1 = (got[:, 1] - got[:, 0] - m) / (1 - m - got[:, 0])
    np.testing.assert_allclose(u0, u[:, 0], atol=1e-4)
    np.testing.assert_allclose(u1, u[:, 1], atol=1e-3)


def test_image_pairs_have_the_shape_and_range_promised():
    task = ImageTask("rectangles", mi_bits=2.0, size=32)
    x, y = task.sample(50, seed=0)
    assert x.shape == y.shape == (50, 1024) and task.dim_x == 1024
    assert 0 <= x.min() and x.max() <= 1
    assert task.mi_bits == 2.0


def test_uniform_circle_source_is_uniform_with_the_mi_it_claims():
    task = UniformCircleTask(dim=1, mi_bits=2.0)
    x, y = task.sample(200_000, seed=0)
    # y is uniform: its histogram is flat
    counts, _ = np.histogram(y, bins=20, range=(0, 1))
    assert counts.std() / counts.mean() < 0.03
    # MI by the plug-in of a fine 2-d histogram (density of y | x is 1/w on an arc of length w = 1/4)
    h, _, _ = np.histogram2d(x[:, 0], y[:, 0], bins=200, range=[[0, 1], [0, 1]])
    p = h / h.sum()
    px, py = p.sum(1, keepdims=True), p.sum(0, keepdims=True)
    nz = p > 0
    mi_bits = float((p[nz] * np.log2(p[nz] / (px @ py)[nz])).sum())
    assert mi_bits == pytest.approx(2.0, abs=0.1)


@pytest.mark.parametrize("family", ["gaussian_bumps", "rectangles"])
@pytest.mark.parametrize("mi_bits", [-0.5, float("nan"), 1e3])
def test_mi_outside_the_supported_range_is_an_error(family, mi_bits):
    with pytest.raises(ValueError, match="mi_bits: the task supports MI from 0 to"):
        make_task(family, mi_bits=mi_bits)


def test_bad_image_parameters_are_errors():
    with pytest.raises(ValueError, match="min_size"):
        ImageTask("rectangles", size=8, min_size=0.1)
    with pytest.raises(ValueError, match="source"):
        ImageTask("gaussian_bumps", source="laplace")
    with pytest.raises(ValueError, match="family"):
        ImageTask("circles")
