"""Every error is ours and also the built-ins that code written for nilearn catches."""

import pytest

from bidsglm import errors
from bidsglm.errors import (
    BidsGlmError,
    ContrastError,
    ContrastTypeError,
    EventsError,
    EventsTypeError,
    ImageDimensionError,
    InputNotFoundError,
    InvalidParameterError,
    NotFittedError,
    ParameterTypeError,
)

#: Each class and the built-ins an ``except`` clause may name to catch it.
BUILT_INS = {
    NotFittedError: (ValueError, AttributeError),
    InvalidParameterError: (ValueError,),
    ParameterTypeError: (ValueError, TypeError),
    EventsError: (ValueError,),
    EventsTypeError: (ValueError, TypeError),
    ImageDimensionError: (ValueError, TypeError),
    ContrastError: (ValueError,),
    ContrastTypeError: (ValueError, TypeError),
    InputNotFoundError: (FileNotFoundError, OSError, ValueError),
}


@pytest.mark.parametrize('error_class', list(BUILT_INS), ids=lambda c: c.__name__)
def test_each_error_is_caught_by_each_of_its_built_ins(error_class):
    message = 'the message'
    for built_in in BUILT_INS[error_class]:
        with pytest.raises(built_in, match=r'^the message$'):
            raise error_class(message)


@pytest.mark.parametrize(
    ('error_class', 'family'),
    [
        (ParameterTypeError, InvalidParameterError),
        (EventsTypeError, EventsError),
        (ContrastTypeError, ContrastError),
    ],
)
def test_a_type_error_is_caught_with_its_family(error_class, family):
    message = 'x'
    with pytest.raises(family):
        raise error_class(message)


@pytest.mark.parametrize('error_class', [InvalidParameterError, EventsError, ContrastError])
def test_a_family_class_is_not_a_type_error(error_class):
    assert not issubclass(error_class, TypeError)


def test_every_listed_class_derives_from_bidsglm_error_and_is_in_the_tree():
    classes = [
        getattr(errors, name) for name in errors.__all__ if isinstance(getattr(errors, name), type)
    ]
    assert len(classes) == 14
    for error_class in classes:
        assert issubclass(error_class, BidsGlmError)
        assert error_class.__name__ in errors.__doc__


def test_a_missing_input_keeps_its_message():
    error = InputNotFoundError("The events file 'a.tsv' does not exist.")
    assert str(error) == "The events file 'a.tsv' does not exist."
