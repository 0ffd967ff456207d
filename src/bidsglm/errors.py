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
    ├── InputNotFoundError      (FileNotFoundError)           a missing input file
    └── OutputFolderError       (OSError)                     the output folder cannot be
                                                              written safely
"""

from __future__ import annotations

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
]


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


class InputNotFoundError(BidsGlmError, FileNotFoundError):
    """An input file or folder does not exist."""


class OutputFolderError(BidsGlmError, OSError):
    """The output folder cannot be written safely (a link out of it, no permission)."""
