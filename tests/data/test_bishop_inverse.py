"""tfgm.data.bishop_inverse: Bishop's inverse problem and the test of a pair against its process."""

from tfgm.data import bishop_inverse


def test_consistent_share_accepts_the_generating_process_only():
    x, t = bishop_inverse.sample(1000, seed=0)
    assert bishop_inverse.consistent_share(x, t) == 1.0
    assert bishop_inverse.consistent_share(x, t + 0.2) < 0.5
    assert bishop_inverse.consistent_share(x, t + 1.0) == 0.0
    assert bishop_inverse.consistent_share([[1.1]], [[1.05]]) == 0.0  # on the curve's extension, outside t in [0, 1]
