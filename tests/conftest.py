"""Shared fixtures: the seeded random generator and tiny synthetic data."""

from __future__ import annotations

import base64
import binascii
import gzip
import re
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

import nibabel as nib
import numpy as np
import pandas as pd
import pytest

from bidsglm import make_first_level_design_matrix

if TYPE_CHECKING:
    from collections.abc import Callable


@pytest.fixture
def rng() -> np.random.Generator:
    """The only source of randomness in the tests: seeded, so runs repeat."""
    return np.random.default_rng(20011126)


class SurfaceFactory:
    """Builders of tiny surface data (GIFTI hemispheres, CIFTI-2 dense series).

    Shared by the models' and the writer's tests through the ``surfaces`` fixture:
    test modules cannot import each other (pytest's importlib mode).
    """

    t_r = 2.0
    n_scans = 30

    @staticmethod
    def hemisphere(values: np.ndarray) -> nib.gifti.GiftiImage:
        """A GIFTI image with one data array per time point (``values``: vertices x time)."""
        arrays = [nib.gifti.GiftiDataArray(column.astype(np.float32)) for column in values.T]
        return nib.gifti.GiftiImage(darrays=arrays)

    @staticmethod
    def brain_models(left: int = 5, right: int = 4) -> nib.cifti2.BrainModelAxis:
        """Two cortical structures, all their vertices kept."""
        return nib.cifti2.BrainModelAxis.from_mask(
            np.ones(left, bool), 'CortexLeft'
        ) + nib.cifti2.BrainModelAxis.from_mask(np.ones(right, bool), 'CortexRight')

    def cifti(self, values: np.ndarray, models: object = None) -> nib.Cifti2Image:
        """A dense series (time x grayordinates) whose step is ``t_r``."""
        series = nib.cifti2.SeriesAxis(0.0, self.t_r, values.shape[0])
        return nib.Cifti2Image(values, header=(series, models or self.brain_models()))

    @staticmethod
    def mesh(n_vertices: int) -> nib.gifti.GiftiImage:
        """A GIFTI surface of ``n_vertices`` on a circle and a fan of triangles from vertex 0."""
        angles = np.linspace(0, 2 * np.pi, n_vertices, endpoint=False)
        points = np.stack([np.cos(angles), np.sin(angles), angles], axis=1) * 10
        faces = [[0, i, i + 1] for i in range(1, n_vertices - 1)]
        arrays = [
            nib.gifti.GiftiDataArray(points.astype(np.float32), intent='NIFTI_INTENT_POINTSET'),
            nib.gifti.GiftiDataArray(np.array(faces, np.int32), intent='NIFTI_INTENT_TRIANGLE'),
        ]
        return nib.gifti.GiftiImage(darrays=arrays)

    def events(self) -> pd.DataFrame:
        """Three 10 s blocks of one condition, 'task'."""
        return pd.DataFrame({'onset': [0.0, 20.0, 40.0], 'duration': 10.0, 'trial_type': 'task'})

    def task_wave(self) -> np.ndarray:
        """The 'task' regressor of :meth:`events` at the scans."""
        frame_times = np.arange(self.n_scans) * self.t_r
        return make_first_level_design_matrix(frame_times, self.events())['task'].to_numpy()

    def series(self, rng: np.random.Generator, n_vertices: int) -> np.ndarray:
        """Time x vertices: 600 + noise, a task response on the first 3, 0 on vertex 7."""
        values = 600 + 5 * rng.standard_normal((self.n_scans, n_vertices))
        values[:, :3] += 20 * self.task_wave()[:, None]
        values[:, 7] = 0.0  # a vertex without data (a medial wall)
        return values

    def cifti_run(self, rng: np.random.Generator, n_vertices: int = 9) -> nib.Cifti2Image:
        """A float32 CIFTI-2 run of 5 + 4 vertices (see :meth:`series`)."""
        return self.cifti(self.series(rng, n_vertices).astype(np.float32))

    def gifti_run(self, rng: np.random.Generator) -> dict[str, nib.gifti.GiftiImage]:
        """A GIFTI run of the same values as :meth:`cifti_run`: 5 left, 4 right vertices."""
        values = self.series(rng, 9).T
        return {'left': self.hemisphere(values[:5]), 'right': self.hemisphere(values[5:])}


@pytest.fixture
def surfaces() -> SurfaceFactory:
    """Builders of tiny GIFTI and CIFTI-2 data (see :class:`SurfaceFactory`)."""
    return SurfaceFactory()


def _content(path: Path) -> bytes:
    """What a saved file holds: a ``.nii.gz`` map's inflated bytes, any other file's bytes.

    The data of a map are the same whichever way a save ran, but not always its gzip
    bytes: python-isal's deflate (ISA-L) has been seen, under heavy load, to pick other
    equally valid matches for the same data (see README, "What is identical").
    """
    data = path.read_bytes()
    if path.name.endswith('.gii'):
        return _gifti_content(data)
    if not path.name.endswith('.nii.gz'):
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error):  # a cut or damaged map: compared as it is
        return data


def _gifti_content(data: bytes) -> bytes:
    """A GIFTI file's XML without its arrays' text, then each array inflated.

    Its maps' arrays are deflated by python-isal, as ``.nii.gz`` maps are.
    """
    arrays = re.findall(rb'Encoding="(\w+)"[^>]*>.*?<Data>([^<]*)</Data>', data, re.S)
    try:
        inflated = [
            zlib.decompress(base64.b64decode(text)) if encoding.startswith(b'GZip') else text
            for encoding, text in arrays
        ]
    except (binascii.Error, zlib.error):  # a cut or damaged file: compared as it is
        return data
    return re.sub(rb'<Data>[^<]*</Data>', b'<Data/>', data) + b''.join(inflated)


def folder_contents(folder: Path, *, work: bool = False) -> dict[str, bytes]:
    """Every file under ``folder``, by relative path; bidsglm's work folder only if
    ``work`` (its lock file never)."""

    def kept(relative: Path) -> bool:
        hidden = relative.parts[0] == '.bidsglm'
        return (work and relative.as_posix() != '.bidsglm/lock') if hidden else True

    return {
        path.relative_to(folder).as_posix(): _content(path)
        for path in sorted(folder.rglob('*'))
        if path.is_file() and kept(path.relative_to(folder))
    }


@pytest.fixture
def contents_of() -> Callable[..., dict[str, bytes]]:
    """:func:`folder_contents`: the files of an output folder, maps by their data."""
    return folder_contents
