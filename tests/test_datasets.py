"""Datasets: scikit-learn's bundled data (standardised), CSV / NPZ files with 1-based error locations."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from lpengine import InvalidProblemError
from lpengine.datasets import load_data_file, load_dataset


def test_diabetes_and_linnerud_are_standardised() -> None:
    pytest.importorskip("sklearn")
    d = load_dataset("diabetes")
    assert d.X.shape == (442, 10) and d.y.shape == (442,)
    assert_allclose(d.X.mean(axis=0), 0.0, atol=1e-12)
    assert_allclose(d.X.std(axis=0), 1.0, atol=1e-12)
    assert_allclose(d.y * d.y_scale + d.y_mean, load_dataset("diabetes", standardize=False).y, atol=1e-9)
    assert load_dataset("diabetes", standardize=False).y.min() == 25.0  # the raw target (disease progression)
    w = load_dataset("linnerud", target="Pulse", standardize=False)
    assert w.X.shape == (20, 3) and w.feature_names == ("Chins", "Situps", "Jumps") and w.target_name == "Pulse"
    assert w.y[0] == 50.0
    with pytest.raises(InvalidProblemError, match=r"has targets \['Weight', 'Waist', 'Pulse'\]; got target 'Age'"):
        load_dataset("linnerud", target="Age")
    with pytest.raises(InvalidProblemError, match="unknown dataset 'iris'"):
        load_dataset("iris")


def test_csv_with_header_and_named_target(tmp_path) -> None:
    p = tmp_path / "d.csv"
    p.write_text("a,target,b\n1,2,3\n\n4,5,6\n")
    d = load_data_file(p, target="target")
    assert_allclose(d.X, [[1, 3], [4, 6]])
    assert_allclose(d.y, [2, 5])
    assert d.feature_names == ("a", "b")
    d = load_data_file(p)  # default: the last column
    assert_allclose(d.y, [3, 6])
    q = tmp_path / "n.csv"
    q.write_text("1,2\n3,4\n")
    assert_allclose(load_data_file(q).X, [[1], [3]])


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("a,b\n1,2\n3,x\n", r"row 3, column 2: 'x' is not a finite number"),
        ("1,2\n3,nan\n", r"row 2, column 2: 'nan' is not a finite number"),
        ("a,b\n1,2\n3\n", r"row 3: 1 columns; expected 2"),
        ("a\n1\n", r"1 column\(s\); expected >= 2"),
        ("a,b\n", "header row but no data rows"),
        ("", "is empty"),
    ],
)
def test_csv_errors_name_file_row_and_column(tmp_path, text, match) -> None:
    p = tmp_path / "bad.csv"
    p.write_text(text)
    with pytest.raises(InvalidProblemError, match=match) as info:
        load_data_file(p)
    assert "bad.csv" in str(info.value)


def test_npz_files(tmp_path) -> None:
    p = tmp_path / "d.npz"
    np.savez(p, X=np.arange(6.0).reshape(3, 2), y=np.array([[1.0], [2.0], [3.0]]))
    d = load_data_file(p, standardize=True)
    assert_allclose(d.X.mean(axis=0), 0.0, atol=1e-12)
    assert_allclose(d.y, (np.array([1.0, 2, 3]) - 2.0) / np.std([1.0, 2, 3]))
    bad = tmp_path / "bad.npz"
    X = np.ones((3, 2))
    X[1, 1] = np.inf
    np.savez(bad, X=X, y=np.ones(3))
    with pytest.raises(InvalidProblemError, match=r"X\[row 2, column 2\] \(1-based\) is inf"):
        load_data_file(bad)
    np.savez(bad, X=np.ones((3, 2)), z=np.ones(3))
    with pytest.raises(InvalidProblemError, match="must contain arrays 'X' and 'y'"):
        load_data_file(bad)
    with pytest.raises(InvalidProblemError, match="expected a .csv or .npz file"):
        load_data_file(tmp_path / "d.txt")
    with pytest.raises(InvalidProblemError, match="cannot read data file"):
        load_data_file(tmp_path / "missing.csv")
