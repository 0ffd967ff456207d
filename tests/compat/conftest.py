"""Tiny synthetic data, and helpers to call bidsglm and nilearn side by side."""

from __future__ import annotations

import warnings
from typing import Any

import nibabel as nib
import numpy as np
import pandas as pd
import pytest

SHAPE = (5, 6, 7)
N_SCANS = 40
T_R = 2.0
AFFINE = np.diag([3.0, 3.0, 3.5, 1.0])
OUTPUTS = ('effect_size', 'effect_variance', 'stat', 'p_value', 'z_score')
#: The oracle tolerance on float64 data (DESIGN.md, section 4).
RTOL = 1e-6


def brain() -> np.ndarray:
    """An ellipsoid filling most of the volume."""
    grid = np.indices(SHAPE).astype(float)
    centre = (np.array(SHAPE) - 1) / 2
    radii = np.array(SHAPE) / 2.2
    return sum(((grid[i] - centre[i]) / radii[i]) ** 2 for i in range(3)) <= 1


def make_events(shift: float = 0.0) -> pd.DataFrame:
    """Two conditions in short blocks; ``shift`` moves them between runs."""
    onsets = np.arange(4.0, 72.0, 8.0) + shift
    return pd.DataFrame(
        {
            'onset': onsets,
            'duration': np.full(onsets.size, 4.0),
            'trial_type': (['audio', 'visual'] * 5)[: onsets.size],
        }
    )


def make_run(rng: np.random.Generator) -> nib.Nifti1Image:
    """A float64 run: a bright brain, noise, and a block response in the front half."""
    inside = brain()
    baseline = np.where(inside, 800.0, 20.0)
    wave = (np.arange(N_SCANS) % 8 < 4).astype(float)
    amplitude = np.zeros(SHAPE)
    amplitude[:, :3][inside[:, :3]] = 12.0
    noise = 4 * rng.standard_normal((*SHAPE, N_SCANS))
    return nib.Nifti1Image(baseline[..., None] + amplitude[..., None] * wave + noise, AFFINE)


def make_maps(rng: np.random.Generator, n_maps: int) -> list[nib.Nifti1Image]:
    """Second-level inputs: 3D float64 maps with a positive mean in the brain."""
    return [
        nib.Nifti1Image(np.where(brain(), 1.0, 0.0) + rng.standard_normal(SHAPE), AFFINE)
        for _ in range(n_maps)
    ]


@pytest.fixture
def mask_img() -> nib.Nifti1Image:
    return nib.Nifti1Image(brain().astype(np.uint8), AFFINE)


@pytest.fixture
def two_runs(rng) -> tuple[list[nib.Nifti1Image], list[pd.DataFrame]]:
    return [make_run(rng), make_run(rng)], [make_events(0.0), make_events(2.0)]


def quietly(function: Any, *args: Any, **kwargs: Any) -> Any:
    """Call ``function`` with every warning silenced (nilearn warns about its defaults)."""
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        return function(*args, **kwargs)


def recording(
    function: Any, *args: Any, **kwargs: Any
) -> tuple[Any, list[warnings.WarningMessage]]:
    """Call ``function``; return its result and every warning it gave."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        result = function(*args, **kwargs)
    return result, caught


def warned(caught: list[warnings.WarningMessage], category: type[Warning], text: str) -> bool:
    """Whether one of the ``caught`` warnings is of ``category`` and holds ``text``."""
    return any(
        issubclass(item.category, category) and text in str(item.message) for item in caught
    )


#: A voxel whose effect variance is below this fraction of the largest has constant
#: data (resampled from outside the image, for example): its effect and variance are
#: rounding errors, and its t or F, a ratio of the two, is rounding noise in both tools.
CONSTANT_VOXEL_VARIANCE = 1e-20
#: The maps computed from that ratio.
TEST_STATISTICS = ('stat', 'p_value', 'z_score')


def assert_maps_equal(ours: dict, theirs: dict, rtol: float = RTOL) -> None:
    """Every map of ``output_type='all'`` agrees, with a floor for values near 0.

    In voxels of constant data the statistic only has to be rounding noise (below
    1e-3) in both tools; their z and p follow from it.
    """
    variance = np.asarray(theirs['effect_variance'].get_fdata())
    constant = variance <= CONSTANT_VOXEL_VARIANCE * variance.max()
    for name in OUTPUTS:
        mine = ours[name].get_fdata()
        reference = np.asarray(theirs[name].get_fdata())
        assert mine.shape == reference.shape, name
        if name in TEST_STATISTICS:
            if name == 'stat':
                assert np.abs(mine[constant]).max(initial=0) < 1e-3
                assert np.abs(reference[constant]).max(initial=0) < 1e-3
            mine, reference = mine[~constant], reference[~constant]
        scale = np.abs(reference).max()
        np.testing.assert_allclose(mine, reference, rtol=rtol, atol=rtol * scale, err_msg=name)


def assert_designs_equal(ours: list[pd.DataFrame], theirs: list[pd.DataFrame]) -> None:
    """Same column names (types included), same values, one design per run."""
    assert len(ours) == len(theirs)
    for mine, reference in zip(ours, theirs, strict=True):
        assert list(mine.columns) == list(reference.columns)
        assert [type(c) for c in mine.columns] == [type(c) for c in reference.columns]
        np.testing.assert_allclose(
            mine.to_numpy(float), reference.to_numpy(float), rtol=1e-10, atol=1e-12
        )
