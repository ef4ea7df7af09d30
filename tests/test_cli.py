"""brainsim.cli: shared options, metrics.json, figures, error handling of scripts."""

from __future__ import annotations

import json
import os

import matplotlib.pyplot as plt
import numpy as np
import pytest

from brainsim import cli
from brainsim.errors import ChecksumError, ConfigError


def test_parser_defaults_and_choices():
    parser = cli.make_parser("demo", default_out="demo_run")
    args = parser.parse_args([])
    assert args.dataset == "digits" and args.data_dir is None and args.seed == 0
    assert args.out == os.path.join("results", "demo_run")
    args = parser.parse_args(["--dataset", "fashion-mnist", "--data-dir", "/d", "--seed", "7", "--out", "o"])
    assert (args.dataset, args.data_dir, args.seed, args.out) == ("fashion-mnist", "/d", 7, "o")
    with pytest.raises(SystemExit) as exit_info:
        parser.parse_args(["--dataset", "cifar"])
    assert exit_info.value.code == 2


def test_positive_int_option():
    parser = cli.make_parser("demo", default_out="x")
    parser.add_argument("--n", type=cli.positive_int)
    assert parser.parse_args(["--n", "3"]).n == 3
    for bad in ("0", "-2", "1.5"):
        with pytest.raises(SystemExit):
            parser.parse_args(["--n", bad])


def test_load_dataset_from_args_uses_options():
    args = cli.make_parser("demo", default_out="x").parse_args(["--seed", "5"])
    ds = cli.load_dataset_from_args(args, n_train=30, n_test=10)
    assert ds.name == "digits" and ds.X_train.shape == (30, 8, 8) and len(ds.y_test) == 10
    # The split does not depend on --seed.
    ref = cli.load_dataset_from_args(cli.make_parser("d", default_out="x").parse_args([]), n_train=30)
    np.testing.assert_array_equal(ds.y_train, ref.y_train)


def test_library_versions():
    versions = cli.library_versions()
    for key in ("python", "numpy", "scipy", "sklearn", "matplotlib", "brainsim"):
        assert versions[key] and versions[key] != "unavailable"
    assert versions["numpy"] == np.__version__


def test_write_metrics_shape_and_numpy_values(tmp_path):
    out = tmp_path / "new" / "dir"
    models = {"logreg": {"test_accuracy": np.float64(0.5), "n_train": np.int64(10), "n_test": 4,
                         "curve": np.array([1, 2])}}
    path = cli.write_metrics(out, models=models, config={"seed": 0}, timings={"fit": 1.5}, note="x")
    assert path == out / "metrics.json"
    data = json.loads(path.read_text())
    assert set(data) == {"models", "config", "versions", "timings", "note"}
    assert data["models"]["logreg"] == {"test_accuracy": 0.5, "n_train": 10, "n_test": 4, "curve": [1, 2]}
    assert data["versions"]["python"] and data["timings"] == {"fit": 1.5}


@pytest.mark.parametrize("entry", [{"n_train": 1, "n_test": 1},
                                   {"test_accuracy": 97.0, "n_train": 1, "n_test": 1}])
def test_write_metrics_rejects_bad_model_entries(tmp_path, entry):
    with pytest.raises(ValueError):
        cli.write_metrics(tmp_path, models={"m": entry}, config={}, timings={})
    assert not (tmp_path / "metrics.json").exists()


def test_save_figure_writes_png_and_pdf_and_closes(tmp_path):
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    paths = cli.save_figure(fig, tmp_path / "figs", "line")
    assert [p.name for p in paths] == ["line.png", "line.pdf"]
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert paths[1].read_bytes()[:5] == b"%PDF-"
    assert not plt.fignum_exists(fig.number)


def _exit_code(main, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.run_script(main, [])
    return exit_info.value.code, capsys.readouterr().err


def test_run_script_success_and_status(capsys):
    assert _exit_code(lambda argv: None, capsys)[0] == 0
    assert _exit_code(lambda argv: 3, capsys)[0] == 3


def test_run_script_brainsim_error_is_one_line(capsys):
    def main(argv):
        raise ChecksumError("checksum mismatch for f:\n expected a\n got b")

    code, err = _exit_code(main, capsys)
    assert code == 2
    assert err == "error: checksum mismatch for f: expected a got b\n"


def test_run_script_config_error_and_oserror(capsys):
    def bad_option(argv):
        raise ConfigError("--n-train must be positive")

    def unwritable(argv):
        raise PermissionError(13, "Permission denied", "/root/x")

    assert _exit_code(bad_option, capsys) == (2, "error: --n-train must be positive\n")
    assert _exit_code(unwritable, capsys) == (
        2, "error: Permission denied: /root/x; check the permissions or choose another "
           "folder with --out\n")


def test_run_script_interrupt(capsys):
    def main(argv):
        raise KeyboardInterrupt

    code, err = _exit_code(main, capsys)
    assert code == 130 and err.count("\n") == 1 and "interrupted" in err


def test_run_script_keeps_tracebacks_for_bugs():
    def main(argv):
        raise ZeroDivisionError("bug")

    with pytest.raises(ZeroDivisionError):
        cli.run_script(main, [])
