"""The estimators: first-level and second-level GLMs, and their result records."""

from bidsglm.models.first_level import FirstLevelModel, select_runs
from bidsglm.models.results import ContrastResult
from bidsglm.models.second_level import SecondLevelModel

__all__ = ['ContrastResult', 'FirstLevelModel', 'SecondLevelModel', 'select_runs']
