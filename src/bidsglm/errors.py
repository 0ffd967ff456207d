"""The exceptions bidsglm raises.

Every class derives from :class:`BidsGlmError`, so ``except BidsGlmError`` catches
anything of ours, and also from the built-in a caller would naturally expect, so
existing ``except ValueError`` clauses keep working::

    BidsGlmError
    ├── NotFittedError          (ValueError, AttributeError)  model used before fit
    ├── InvalidParameterError   (ValueError)                  a parameter's value
    ├── EventsError             (ValueError)                  an events table
    ├── ShapeMismatchError      (ValueError)                  sizes or grids disagree
    ├── ImageDimensionError     (ValueError)                  3D given where 4D expected
    ├── ContrastError           (ValueError)                  a contrast definition
    ├── BidsNameError           (ValueError)                  a file name or label
    ├── TransformationError     (ValueError)                  a BIDS Stats Models
    │                                                         transformation
    ├── InputNotFoundError      (FileNotFoundError)           a missing input file
    └── OutputFolderError       (OSError)                     the output folder cannot be
                                                              written safely
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from types import FrameType

__all__ = [
    'BidsGlmError',
    'BidsNameError',
    'ContrastError',
    'EventsError',
    'ImageDimensionError',
    'InputNotFoundError',
    'InvalidParameterError',
    'NotFittedError',
    'OutputFolderError',
    'ShapeMismatchError',
    'TransformationError',
    'warn_caller',
]

_PACKAGE = str(Path(__file__).parent)


class BidsGlmError(Exception):
    """Root of every error that bidsglm raises on purpose."""


class NotFittedError(BidsGlmError, ValueError, AttributeError):
    """A model was used before ``fit`` was called."""


class InvalidParameterError(BidsGlmError, ValueError):
    """A parameter has a value outside the allowed set or range."""


class EventsError(BidsGlmError, ValueError):
    """An events table is missing columns or holds impossible values."""


class ShapeMismatchError(BidsGlmError, ValueError):
    """Two inputs that must agree in size or grid do not."""


class ImageDimensionError(BidsGlmError, ValueError):
    """An image has the wrong number of dimensions (3D where 4D is expected, ...)."""


class ContrastError(BidsGlmError, ValueError):
    """A contrast cannot be built or tested on the design it refers to."""


class BidsNameError(BidsGlmError, ValueError):
    """A name, prefix or label cannot make a safe, valid BIDS file name."""


class TransformationError(BidsGlmError, ValueError):
    """A BIDS Stats Models transformation cannot be read or applied to the variables."""


class InputNotFoundError(BidsGlmError, FileNotFoundError):
    """An input file or folder does not exist."""


class OutputFolderError(BidsGlmError, OSError):
    """The output folder cannot be written safely (a link out of it, no permission)."""


def warn_caller(message: str, category: type[Warning] = UserWarning) -> None:
    """Warn, pointing at the first line outside bidsglm that led here.

    However deep in the package the warning is raised, the user sees the line of
    their own code (their call of ``save_glm_to_bids``, say).

    Parameters
    ----------
    message : str
        The warning.
    category : type of Warning, default=UserWarning
        Its class.
    """
    level = 2  # warnings.warn counts its caller (this function) as 1
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame = frame.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level)
