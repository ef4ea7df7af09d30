"""brainsim.experiment and brainsim.protocols: one experiment is one library call.

The runs use the 10-neuron network on the bundled digits with the default chunk
sizes, so they share the compiled networks of tests/test_classifier.py.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from brainsim.classifier import DiehlCookSNN
from brainsim.errors import ConfigError, ModelFileError
from brainsim.experiment import (
    DEFAULT_SNN_CONFIG,
    default_snn_config,
    resolve_snn_config,
    snn_experiment,
    snn_kwargs,
)
from brainsim.protocols import PAPER_PROTOCOL, apply_protocol, paper_run

TINY = {"dataset": "digits", "n_neurons": 10, "n_test": 60, "progress": False}


# --------------------------------------------------------------------------- configs
def test_defaults_are_read_only_and_copies_are_independent():
    with pytest.raises(TypeError):
        DEFAULT_SNN_CONFIG["n_neurons"] = 5  # type: ignore[index]
    a = default_snn_config()
    a["baselines"].append("kmeans")
    assert default_snn_config()["baselines"] == []
    assert resolve_snn_config({})["n_neurons"] == DEFAULT_SNN_CONFIG["n_neurons"]


@pytest.mark.parametrize("config, message", [
    ({"n_nerons": 10}, "unknown snn experiment config key 'n_nerons'; known keys: "),
    ({"n_neurons": 1}, "n_neurons must be a whole number >= 2"),
    ({"epochs": 0}, "epochs must be a whole number >= 1"),
    ({"n_train": 2.5}, "n_train must be a whole number >= 1 or None"),
    ({"rule": "oja"}, "unknown rule 'oja'"),
    ({"baselines": ["svm"]}, "baselines must be a list of names among kmeans, ann_matched"),
    ({"baselines": "kmeans"}, "baselines must be a list"),
    ({"snn_params": {"learning_rule": "triplet"}}, "set 'rule' instead"),
    ({"snn_params": {"tau": 1}}, "'tau' is not a DiehlCookSNN parameter"),
    ({"protocol": "paper", "n_neurons": 200}, "defined for 100, 400, 1600, 6400 neurons"),
    ({"protocol": "paper", "n_train": 1000}, "sets n_train itself"),
    ({"protocol": "nature"}, "unknown protocol 'nature'"),
    ({"recipe": "bindsnet"}, "unknown recipe 'bindsnet'; choose one of diehl_cook_2015"),
    ({"validation": 0}, "validation must be a number of training images >= 1"),
    ({"validation": True}, "validation must be"),
    ({"snn_params": {"recipe": "local_plus"}}, "set 'recipe' instead"),
])
def test_bad_configs_raise_before_any_work(config, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        snn_experiment(config)


def test_rules_experiment_checks_its_config():
    from brainsim.experiment import rules_experiment

    with pytest.raises(ConfigError, match="rules must be a list of names among exponential"):
        rules_experiment({"rules": ["oja"]})
    with pytest.raises(ConfigError, match="unknown rules experiment config key 'rule'"):
        rules_experiment({"rule": "triplet"})


def test_snn_params_pass_through_to_the_estimator():
    cfg = resolve_snn_config({"snn_params": {"presentation_time": 0.25, "chunk_size": 50},
                              "epochs": 3, "threads": 2, "rule": "triplet", "seed": 7})
    assert cfg["snn_params"] == {"presentation_time": 0.25, "chunk_size": 50}
    snn = DiehlCookSNN(**snn_kwargs(cfg))
    assert (snn.n_epochs, snn.openmp_threads, snn.learning_rule, snn.random_state,
            snn.presentation_time, snn.chunk_size) == (3, 2, "triplet", 7, 0.25, 50)


# --------------------------------------------------------------------------- protocol
def test_paper_protocol_table():
    # 100 neurons: what the README's paper command has always run
    explicit = {"n_train": 40000, "epochs": 1, "n_assign": 60000, "n_test": 10000}
    assert resolve_snn_config({"protocol": "paper"}) == dict(resolve_snn_config(explicit),
                                                             protocol="paper")
    assert [(r.n_neurons, r.n_train, r.epochs) for r in PAPER_PROTOCOL.values()] == [
        (100, 40000, 1), (400, 60000, 3), (1600, 60000, 7), (6400, 60000, 15)]
    assert [r.paper_accuracy for r in PAPER_PROTOCOL.values()] == [0.829, 0.870, 0.919, 0.950]
    cfg = apply_protocol({"protocol": "paper", "n_neurons": 400, "n_train": None, "epochs": 1,
                          "n_assign": None, "n_test": None}, DEFAULT_SNN_CONFIG)
    assert (cfg["n_train"], cfg["epochs"], cfg["n_assign"], cfg["n_test"]) == (60000, 3, 60000,
                                                                               10000)
    # giving the protocol's own value is no clash
    assert resolve_snn_config({"protocol": "paper", "n_neurons": 400, "epochs": 3})["epochs"] == 3
    assert paper_run(1600).epochs == 7


def test_paper_protocol_needs_the_full_training_set():
    with pytest.raises(ConfigError, match="protocol 'paper' needs 60000 training and 10000 "
                                          "test images, more than digits has"):
        snn_experiment({"protocol": "paper", "progress": False, "backend": "runtime"})


# --------------------------------------------------------------------------- runs
@pytest.mark.standalone
def test_snn_experiment_with_epochs_and_baselines(tmp_path, standalone_cache):
    out = tmp_path / "run"
    config = dict(TINY, n_train=120, epochs=2, n_assign=200, seed=3,
                  baselines=["kmeans", "ann_matched"])
    result = snn_experiment(config, out_dir=out)
    # the returned dict is what metrics.json holds
    on_disk = json.loads((out / "metrics.json").read_text())
    assert on_disk == json.loads(json.dumps(result))
    assert {"config", "models", "versions", "timings", "figures"} <= set(result)
    assert set(result["models"]) == {"snn", "snn_logreg", "kmeans", "ann_matched"}
    assert result["config"]["n_neurons"] == 10 and result["config"]["seed"] == 3
    assert result["config"]["recipe"] == "diehl_cook_2015" and result["config"]["split"] == "test"
    # the linear read-out learns from the counts of the 200 assignment images only
    readout = result["models"]["snn_logreg"]
    assert readout["readout_train_counts_shape"] == [200, 10]
    assert readout["n_train"] == 200 and readout["n_test"] == 60 and readout["split"] == "test"
    assert 0.2 < readout["test_accuracy"] <= 1.0
    snn = result["models"]["snn"]
    assert snn["epochs"] == 2 and snn["n_train"] == 120 and snn["n_assign"] == 200
    assert snn["training_images_shown"] == 240
    assert snn["training_presentations"] >= 240  # retries included
    assert 0.2 < snn["test_accuracy"] <= 1.0  # chance is 0.1
    for name in ("kmeans", "ann_matched"):
        m = result["models"][name]
        assert m["n_train"] == 200 and m["n_test"] == 60  # the images the SNN saw
    # k-means is above chance; the 10-unit MLP gets 10 epochs of 7 batches only
    assert 0.2 < result["models"]["kmeans"]["test_accuracy"] <= 1.0
    assert 0.1 < result["models"]["ann_matched"]["test_accuracy"] <= 1.0
    assert result["models"]["ann_matched"]["architecture"] == [64, 10, 10]
    assert result["models"]["kmeans"]["n_prototypes"] == 10
    for name in ("receptive_fields", "confusion_matrix", "example_response"):
        assert (out / f"{name}.png").stat().st_size > 1000
    loaded = DiehlCookSNN.load(out / "snn.npz")
    assert loaded.n_epochs == 2 and loaded.n_training_images_ == 240
    assert (out / "checkpoint" / "checkpoint.npz").exists()


@pytest.mark.standalone
def test_resume_in_the_middle_of_the_second_epoch(tmp_path, digits_X, standalone_cache,
                                                  monkeypatch):
    """Interrupt after a checkpoint inside epoch 2, resume, get the uninterrupted weights."""
    X = digits_X[:150]  # 2 x 150 images: the first chunk (250 slots) ends in epoch 2
    params = dict(n_neurons=10, n_epochs=2, progress=False, random_state=0,
                  checkpoint_every=1)
    reference = DiehlCookSNN(**params).partial_fit(X)
    assert reference.n_training_images_ == 300

    ckpt = tmp_path / "ckpt"
    written = []
    original = DiehlCookSNN._write_checkpoint

    class Interrupt(Exception):
        pass

    def write_then_die(self, path, state, prog, data_hash):
        original(self, path, state, prog, data_hash)
        written.append(prog.next_image)
        raise Interrupt  # as if the process were killed right after a checkpoint

    monkeypatch.setattr(DiehlCookSNN, "_write_checkpoint", write_then_die)
    with pytest.raises(Interrupt):
        DiehlCookSNN(**params, checkpoint_dir=str(ckpt)).partial_fit(X)
    monkeypatch.setattr(DiehlCookSNN, "_write_checkpoint", original)
    assert 150 < written[0] < 300  # stopped inside the second epoch

    # a checkpoint of another number of epochs is refused, not silently reused
    for n_epochs in (1, 3):
        with pytest.raises(ModelFileError, match="differs in: n_epochs"):
            DiehlCookSNN(**dict(params, n_epochs=n_epochs),
                         checkpoint_dir=str(ckpt)).partial_fit(X)
    resumed = DiehlCookSNN(**params, checkpoint_dir=str(ckpt)).partial_fit(X)
    np.testing.assert_array_equal(resumed.weights_, reference.weights_)
    np.testing.assert_array_equal(resumed.theta_, reference.theta_)


@pytest.fixture(scope="module")
def digits_X():
    from brainsim.datasets import load_dataset

    return load_dataset("digits").X_train


def test_recipe_and_validation_reach_the_estimator_and_the_data():
    from brainsim.datasets import load_dataset
    from brainsim.experiment import load_experiment_data, snn_kwargs

    cfg = resolve_snn_config({"recipe": "local_plus", "validation": 300, "n_train": 100,
                              "n_test": 50})
    assert snn_kwargs(cfg)["recipe"] == "local_plus"
    data, split = load_experiment_data(cfg, cfg["n_train"])
    full = load_dataset("digits")
    # the "test" images are the first 50 of the last 300 training images
    assert split == "validation" and len(data.y_train) == 100 and len(data.y_test) == 50
    assert np.array_equal(data.X_test, full.X_train[-300:][:50])
    assert np.array_equal(data.X_train, full.X_train[:100])
    data, split = load_experiment_data(resolve_snn_config({"n_test": 50}), 100)
    assert split == "test" and np.array_equal(data.X_test, full.X_test[:50])
