"""Parameters the scikit-learn way, without importing scikit-learn.

An estimator stores each constructor argument, unchanged, under its own name;
:class:`ParamsMixin` then gives it what scikit-learn's tools expect of an estimator
(``sklearn.base.clone``, grid searches, ``check_is_fitted``): ``get_params(deep=True)``,
``set_params`` with ``<parameter>__<sub-parameter>`` names for parameters that are
estimators themselves (a nilearn ``NiftiMasker`` given as ``mask_img``, say), a
``repr`` that shows only the parameters that differ from their defaults, and
``__sklearn_tags__``. Everything is duck-typed: scikit-learn is never imported here.
"""

from __future__ import annotations

import inspect
import sys
from typing import Any

from bidsglm.errors import InvalidParameterError

__all__ = ['ParamsMixin']

#: Width of a ``repr`` line, and the number of non-blank characters shown before a
#: long ``repr`` is cut in the middle (scikit-learn's values).
REPR_WIDTH = 80
REPR_MAX_CHARS = 700


class ParamsMixin:
    """``get_params``, ``set_params``, ``repr`` and tags from the constructor's signature.

    Subclasses store every argument of ``__init__`` unchanged, under the same name,
    and do nothing else there.

    Examples
    --------
    >>> class Smoother(ParamsMixin):
    ...     def __init__(self, fwhm=None, mode='reflect'):
    ...         self.fwhm = fwhm
    ...         self.mode = mode
    >>> smoother = Smoother(fwhm=6.0)
    >>> smoother
    Smoother(fwhm=6.0)
    >>> smoother.set_params(mode='nearest').get_params()
    {'fwhm': 6.0, 'mode': 'nearest'}
    """

    @classmethod
    def _get_param_names(cls) -> list[str]:
        """Return the constructor's parameter names, sorted (as scikit-learn does)."""
        signature = inspect.signature(cls.__init__)
        return sorted(
            name
            for name, parameter in signature.parameters.items()
            if name != 'self' and parameter.kind is not parameter.VAR_KEYWORD
        )

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Return the parameters, by name, as given to the constructor.

        Parameters
        ----------
        deep : bool, default=True
            Also list the parameters of parameters that are estimators (anything with
            a ``get_params`` method), as ``<parameter>__<sub-parameter>``.

        Returns
        -------
        dict
            Parameter names mapped to their values.
        """
        params: dict[str, Any] = {}
        for name in self._get_param_names():
            value = getattr(self, name)
            if deep and _is_estimator(value):
                params.update({f'{name}__{key}': v for key, v in value.get_params().items()})
            params[name] = value
        return params

    def set_params(self, **params: Any) -> Any:  # noqa: ANN401
        """Set parameters by name, nested ones as ``<parameter>__<sub-parameter>``.

        Nothing is checked here but the names: values are checked by ``fit``.

        Returns
        -------
        object
            The estimator itself.

        Raises
        ------
        InvalidParameterError
            If a name is not a parameter (nothing is changed then).
        """
        known = self._get_param_names()
        nested: dict[str, dict[str, Any]] = {}
        for key, value in params.items():
            name, _, sub_name = key.partition('__')
            if name not in known:
                raise self._unknown_parameter(key, known)
            if sub_name:
                nested.setdefault(name, {})[sub_name] = value
        for key, value in params.items():
            if '__' not in key:
                setattr(self, key, value)
        for name, sub_params in nested.items():
            self._set_nested(name, sub_params)
        return self

    def _set_nested(self, name: str, sub_params: dict[str, Any]) -> None:
        """Forward ``<name>__...`` parameters to the estimator held by ``name``."""
        holder = getattr(self, name)
        if not _is_estimator(holder):
            msg = (
                f'The {name!r} parameter of {type(self).__name__} holds '
                f'{type(holder).__name__}, which has no parameters, so '
                f'{sorted(f"{name}__{key}" for key in sub_params)} cannot be set. Set '
                f'{name!r} itself instead.'
            )
            raise InvalidParameterError(msg)
        holder.set_params(**sub_params)

    def _unknown_parameter(self, key: str, known: list[str]) -> InvalidParameterError:
        msg = (
            f'Invalid parameter {key!r} for {type(self).__name__}, which has no parameter '
            f'of that name. Valid parameters are: {known}.'
        )
        return InvalidParameterError(msg)

    def _changed_params(self) -> dict[str, Any]:
        """Return the parameters whose ``repr`` differs from their default's."""
        defaults = inspect.signature(type(self).__init__).parameters
        return {
            name: value
            for name, value in self.get_params(deep=False).items()
            if repr(value) != repr(defaults[name].default)
        }

    def __repr__(self) -> str:
        name = type(self).__name__
        items = [f'{key}={value!r}' for key, value in self._changed_params().items()]
        return _shorten(f'{name}({_fill(items, len(name) + 1)})')

    def __sklearn_tags__(self) -> Any:  # noqa: ANN401
        """Describe the estimator to scikit-learn, which alone calls this.

        Images in, fitted before use, no ``predict``: scikit-learn's tag classes are
        read from the scikit-learn that is calling (it is never imported here).
        """
        utils = sys.modules.get('sklearn.utils')
        if utils is None or not hasattr(utils, 'Tags'):
            msg = '__sklearn_tags__ is for scikit-learn >= 1.6, which is not imported.'
            raise AttributeError(msg)
        return utils.Tags(
            estimator_type=None,
            target_tags=utils.TargetTags(required=False),
            input_tags=utils.InputTags(two_d_array=False),
            requires_fit=True,
        )


def _is_estimator(value: object) -> bool:
    """Whether a parameter's value is an estimator with parameters of its own."""
    return callable(getattr(value, 'get_params', None)) and not isinstance(value, type)


def _fill(items: list[str], indent: int) -> str:
    """Join ``key=value`` items with ', ', starting a new line where one gets too long.

    Each line, the ``indent`` columns of the class name included, stays within
    REPR_WIDTH + 1 characters when its items allow it (an item longer than a line
    gets a line of its own), the layout of scikit-learn's ``repr``.
    """
    room = REPR_WIDTH - indent + 1
    lines: list[list[str]] = [[]]
    used = 0
    for position, item in enumerate(items):
        cost = len(item) + 2  # the ', ' or ',\n' after it, or the closing ')'
        if position == len(items) - 1:
            cost += 1
        if lines[-1] and used + cost > room:
            lines.append([])
            used = 0
        lines[-1].append(item)
        used += cost
    return (',\n' + ' ' * indent).join(', '.join(line) for line in lines)


def _shorten(text: str) -> str:
    """Cut the middle of a ``repr`` longer than REPR_MAX_CHARS non-blank characters.

    Half of them are kept at each end, around '...'; when the cut spans lines, the
    end part starts at the beginning of its line.

    Examples
    --------
    >>> _shorten('A(' + 'x' * 800 + ')').count('x')
    697
    """
    kept = [index for index, character in enumerate(text) if not character.isspace()]
    if len(kept) <= REPR_MAX_CHARS:
        return text
    half = REPR_MAX_CHARS // 2
    left, right = kept[half], kept[-half]
    if '\n' in text[left:right]:
        right = text.rfind('\n', 0, right)
    if left + len('...') >= right:
        return text
    return text[:left] + '...' + text[right:]
