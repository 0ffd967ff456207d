"""Models to build reports from: tiny runs with planted effects, fitted, and saved for real."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pandas as pd
import pytest

from bidsglm import save_glm_to_bids
from bidsglm.design import make_first_level_design_matrix
from bidsglm.models import FirstLevelModel, SecondLevelModel

SHAPE = (7, 8, 9)
AFFINE = np.array(
    [[-3.0, 0, 0, 9.0], [0, 3.0, 0, -12.0], [0, 0, 3.5, -14.0], [0, 0, 0, 1.0]]
)  # LAS: x grows to the left of the array
N_SCANS = 40
T_R = 2.0
CONTRASTS = {'audio': 'audio', 'audio - visual': 'audio - visual', 'effects': np.eye(4)[:2]}


def events(shift: float) -> pd.DataFrame:
    onsets = np.arange(4.0, 70.0, 8.0) + shift
    kinds = np.resize(['audio', 'visual', 'motor'], onsets.size)
    return pd.DataFrame({'onset': onsets, 'duration': 3.0, 'trial_type': kinds})


def planted_run(rng: np.random.Generator, table: pd.DataFrame) -> nib.Nifti1Image:
    """A run whose 'audio' response (4 % of 500) fills a 3x3x3 block; AR(1) noise."""
    design = make_first_level_design_matrix(np.arange(N_SCANS) * T_R, table, drift_model=None)
    amplitude = np.zeros(SHAPE)
    amplitude[1:4, 2:5, 3:6] = 20.0
    noise = rng.standard_normal((*SHAPE, N_SCANS))
    for t in range(1, N_SCANS):
        noise[..., t] += 0.3 * noise[..., t - 1]
    data = 500.0 + amplitude[..., None] * design['audio'].to_numpy() + 2.0 * noise
    return nib.Nifti1Image(data, AFFINE)


@pytest.fixture
def first_level_model(rng):
    """A fitted first-level model of two runs, an 'audio' effect planted in one block."""
    tables = [events(0.0), events(2.0)]
    runs = [planted_run(rng, table) for table in tables]
    mask = nib.Nifti1Image(np.ones(SHAPE, np.uint8), AFFINE)
    return FirstLevelModel(t_r=T_R, mask_img=mask, drift_model=None).fit(runs, events=tables)


@pytest.fixture
def first_level_dir(tmp_path, first_level_model):
    """That model, saved with three contrasts (t, t, F)."""
    out = tmp_path / 'first'
    save_glm_to_bids(first_level_model, CONTRASTS, out_dir=out, prefix='sub-01_task-x')
    return out


@pytest.fixture
def second_level_model(rng):
    """A fitted group model of 12 maps with a positive effect in one block."""
    effect = np.zeros(SHAPE)
    effect[4:6, 4:7, 2:5] = 3.0
    maps = [nib.Nifti1Image(effect + rng.standard_normal(SHAPE), AFFINE) for _ in range(12)]
    mask = nib.Nifti1Image(np.ones(SHAPE, np.uint8), AFFINE)
    return SecondLevelModel(mask_img=mask).fit(maps)


@pytest.fixture
def second_level_dir(tmp_path, second_level_model):
    """That model, saved with its intercept."""
    out = tmp_path / 'group'
    save_glm_to_bids(second_level_model, 'intercept', out_dir=out, prefix='task-x')
    return out


def icosphere(subdivisions: int = 1, radius: float = 50.0) -> tuple[np.ndarray, np.ndarray]:
    """A sphere of triangles: an icosahedron whose faces are split in 4, ``subdivisions`` times.

    12, 42, 162... vertices (``10 * 4**subdivisions + 2``), centred on 0, of ``radius`` mm.
    """
    golden = (1 + 5**0.5) / 2
    points = [
        (-1, golden, 0), (1, golden, 0), (-1, -golden, 0), (1, -golden, 0),
        (0, -1, golden), (0, 1, golden), (0, -1, -golden), (0, 1, -golden),
        (golden, 0, -1), (golden, 0, 1), (-golden, 0, -1), (-golden, 0, 1),
    ]  # fmt: skip
    faces = [
        (0, 11, 5), (0, 5, 1), (0, 1, 7), (0, 7, 10), (0, 10, 11), (1, 5, 9), (5, 11, 4),
        (11, 10, 2), (10, 7, 6), (7, 1, 8), (3, 9, 4), (3, 4, 2), (3, 2, 6), (3, 6, 8),
        (3, 8, 9), (4, 9, 5), (2, 4, 11), (6, 2, 10), (8, 6, 7), (9, 8, 1),
    ]  # fmt: skip
    vertices = [np.array(p, float) / np.linalg.norm(p) for p in points]
    for _ in range(subdivisions):
        faces = _split_faces(vertices, faces)
    return radius * np.array(vertices), np.array(faces, dtype=np.int64)


def _split_faces(
    vertices: list[np.ndarray], faces: list[tuple[int, int, int]]
) -> list[tuple[int, int, int]]:
    """Split each face in 4 at its edges' middles, put on the unit sphere (added to vertices)."""
    middles: dict[tuple[int, int], int] = {}

    def middle(a: int, b: int) -> int:
        key = (min(a, b), max(a, b))
        if key not in middles:
            point = vertices[a] + vertices[b]
            vertices.append(point / np.linalg.norm(point))
            middles[key] = len(vertices) - 1
        return middles[key]

    split = []
    for a, b, c in faces:
        ab, bc, ca = middle(a, b), middle(b, c), middle(c, a)
        split += [(a, ab, ca), (b, bc, ab), (c, ca, bc), (ab, bc, ca)]
    return split
