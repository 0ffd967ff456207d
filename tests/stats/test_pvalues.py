import numpy as np
import pytest
from scipy import stats as sps

from bidsglm.stats.pvalues import MAX_DOF, p_and_z, z_from_tails


def test_p_and_z_t_matches_scipy_upper_tail():
    t = np.array([-3.0, -0.5, 0.0, 0.5, 3.0])
    p, z = p_and_z(t, 't', dof=12)
    np.testing.assert_allclose(p, sps.t.sf(t, 12), rtol=1e-14)
    np.testing.assert_allclose(z, sps.norm.isf(sps.t.sf(t, 12)), rtol=1e-10, atol=1e-14)


def test_p_and_z_z_has_the_sign_of_t_and_is_precise_in_the_lower_tail():
    p, z = p_and_z(np.array([-40.0, 40.0]), 't', dof=1e6)
    # norm.isf(1 - tiny) would give -8.2 (1 - 1e-16 rounding); the lower tail keeps it.
    assert z[0] == pytest.approx(-z[1], rel=1e-6)
    assert z[1] == pytest.approx(37.0471, abs=1e-3)  # clipped at p = 1e-300
    assert p[0] == pytest.approx(1.0)


def test_p_and_z_f_of_one_row_gives_two_sided_t_p():
    t = np.array([0.3, 1.7, 2.9])
    p_f, _ = p_and_z(t**2, 'F', dof=25, effect_dof=1)
    np.testing.assert_allclose(p_f, 2 * sps.t.sf(t, 25), rtol=1e-10)


def test_p_and_z_caps_the_degrees_of_freedom():
    p_capped, _ = p_and_z(np.array([2.0]), 't', dof=1e20)
    np.testing.assert_allclose(p_capped, sps.t.sf(2.0, MAX_DOF), rtol=1e-12)


def test_z_from_tails_uses_the_lower_tail_below_the_median():
    z = z_from_tails(np.array([1.0 - 1e-20]), np.array([1e-20]))
    assert z[0] == pytest.approx(sps.norm.ppf(1e-20))
