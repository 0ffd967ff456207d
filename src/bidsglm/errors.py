"""The exceptions bidsglm raises.

Every class derives from :class:`BidsGlmError`, so ``except BidsGlmError`` catches
anything of ours, and also from the built-in a caller would naturally expect, so
existing ``except ValueError`` clauses keep working::

    BidsGlmError
    ├── NotFittedError          (ValueError, AttributeError)  model used before fit
    ├── InvalidParameterError   (ValueError)                  a parameter's value
    │   └── ParameterTypeError  (TypeError)                   ... of a type or form not
    │                                                         accepted
    ├── EventsError             (ValueError)                  an events table
    │   └── EventsTypeError     (TypeError)                   ... holding text for numbers
    ├── ShapeMismatchError      (ValueError)                  sizes or grids disagree
    ├── ImageDimensionError     (ValueError, TypeError)       3D given where 4D expected
    ├── ContrastError           (ValueError)                  a contrast definition
    │   └── ContrastTypeError   (TypeError)                   ... of a form not accepted
    ├── BidsNameError           (ValueError)                  a file name or label
    ├── TransformationError     (ValueError)                  a BIDS Stats Models
    │                                                         transformation
    ├── InputNotFoundError      (FileNotFoundError,           a missing input file
    │                            ValueError)
    └── OutputFolderError       (OSError)                     the output folder cannot be
                                                              written safely

The second built-ins make the code written for ``nilearn.glm`` catch our errors with
its own ``except`` clauses. For one misuse nilearn 0.14.1 raises ``ValueError`` at
one entry point and ``TypeError`` at another (a wrong type is a ``TypeError`` from its
parameter checks, a ``ValueError`` where it converts the value), so each error about
the type or form of an input is both. nilearn's ``DimensionError`` is a ``TypeError``,
and a missing image file is a ``ValueError`` there (a missing table, a
``FileNotFoundError``).
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
    'ContrastTypeError',
    'EventsError',
    'EventsTypeError',
    'ImageDimensionError',
    'InputNotFoundError',
    'InvalidParameterError',
    'NotFittedError',
    'OutputFolderError',
    'ParameterTypeError',
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


class ParameterTypeError(InvalidParameterError, TypeError):
    """A parameter is of a type or form that is not accepted (a string for a number).

    Also a :class:`TypeError`, as nilearn's parameter checks raise.
    """


class EventsError(BidsGlmError, ValueError):
    """An events table is missing columns or holds impossible values."""


class EventsTypeError(EventsError, TypeError):
    """An events column that must hold numbers holds text.

    Also a :class:`TypeError`: nilearn raises one for text in ``modulation``.
    """


class ShapeMismatchError(BidsGlmError, ValueError):
    """Two inputs that must agree in size or grid do not."""


class ImageDimensionError(BidsGlmError, ValueError, TypeError):
    """An image has the wrong number of dimensions (3D where 4D is expected, ...).

    Also a :class:`TypeError`, as nilearn's ``DimensionError``.
    """


class ContrastError(BidsGlmError, ValueError):
    """A contrast cannot be built or tested on the design it refers to."""


class ContrastTypeError(ContrastError, TypeError):
    """A contrast definition is of a form that is not accepted (None, a dict, ...).

    Also a :class:`TypeError`: nilearn's ``SecondLevelModel`` raises one for these.
    """


class BidsNameError(BidsGlmError, ValueError):
    """A name, prefix or label cannot make a safe, valid BIDS file name."""


class TransformationError(BidsGlmError, ValueError):
    """A BIDS Stats Models transformation cannot be read or applied to the variables."""


class InputNotFoundError(BidsGlmError, FileNotFoundError, ValueError):
    """An input file or folder does not exist.

    Also a :class:`ValueError`, as nilearn raises for a missing image file.
    """


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
