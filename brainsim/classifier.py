"""The Diehl & Cook (2015) spiking network as a scikit-learn-style estimator.

Protocol ([DC15] section 2.5):

1. ``fit(X, y)`` lets the network learn from the images ``X`` with STDP,
   without labels;
2. learning and the adaptive thresholds are then frozen, and the network is
   shown the first ``n_assign`` training images once more; each excitatory
   neuron is assigned the class for which its mean response is highest
   (labels are used here and nowhere else; the authors' public demo did this
   on the *test* set, which the paper did not);
3. ``predict(X)`` returns, for each image, the class whose assigned neurons
   fire most on average.

Example
-------
>>> from brainsim.datasets import load_dataset
>>> from brainsim.classifier import DiehlCookSNN
>>> data = load_dataset("digits")
>>> snn = DiehlCookSNN(n_neurons=100, random_state=0).fit(data.X_train, data.y_train)
>>> snn.score(data.X_test, data.y_test)  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from brainsim import __version__
from brainsim import model as M
from brainsim.encoding import flatten_images, mean_pixel_value, normalised_rows, stimulus_rows
from brainsim.errors import ConfigError, ModelFileError
from brainsim.network import NetworkShape, time_steps
from brainsim.plasticity import DEFAULT_RULE, get_rule
from brainsim.presentation import (
    InferenceResult,
    TrainingProgress,
    infer_chunks,
    train_chunks,
)
from brainsim.recipes import DEFAULT_RECIPE, Recipe, resolve_recipe
from brainsim.readout import assign_labels, class_scores, predict_from_counts
from brainsim.simulation import NetworkState, initial_state, make_simulator, normalise_weights

FILE_FORMAT = "brainsim-diehl-cook"
FILE_FORMAT_VERSION = 1
_STATE_ARRAYS = ("weights", "delays", "theta", "v_exc", "v_inh")


class DiehlCookSNN:
    """Unsupervised spiking network with STDP and lateral inhibition.

    Parameters
    ----------
    n_neurons : int
        Excitatory neurons (and as many inhibitory ones). [DC15]: 100 to 6400.
    learning_rule : str
        "power_law" (default), "exponential", "pre_post" or "triplet"; see
        :mod:`brainsim.plasticity`.
    presentation_time, resting_time : float
        Seconds each image is shown / the network rests (350 ms, 150 ms).
    n_assign : int or None
        Training images (the first ones) used for label assignment; None: all.
    n_repeats : int
        Presentations of each image during assignment and prediction whose
        spike counts are summed (the paper averaged over repeats).
    backend : str
        "standalone" (compiled C++, default), "runtime" (numpy, no compiler)
        or "cython".
    chunk_size : int
        Presentation slots per simulation run while learning; checkpoints are
        written between runs.
    n_copies : int
        Network copies simulated side by side when learning is off.
    inference_chunk_size : int
        Presentation slots per copy and run when learning is off.
    openmp_threads : int
        Threads of the compiled binary (0: single-threaded build).
    checkpoint_dir : str or None
        Folder for checkpoints; an existing checkpoint there is resumed.
    checkpoint_every : int
        Write a checkpoint after at least this many new training images.
    cache_dir : str or None
        Cache for compiled networks (default ``~/.cache/brainsim/standalone``).
    progress : bool
        Show progress bars (images per second, time left).
    random_state : int
        Seeds initial weights, delays and all spike trains.
    recipe : str
        Learning mechanisms (:mod:`brainsim.recipes`): "diehl_cook_2015"
        (default, the faithful network) or "local_plus".
    recipe_options : dict or None
        Fields of the recipe to change, e.g. ``{"eta_final": 0.2}`` or
        ``{"input_normalisation": False}`` (see :class:`brainsim.recipes.Recipe`).

    Attributes
    ----------
    weights_ : ndarray, shape (n_inputs, n_neurons)
        Learned input weights.
    theta_ : ndarray, shape (n_neurons,)
        Adaptive threshold in volts (the firing threshold is
        v_thresh_e + theta - 20 mV).
    delays_ : ndarray, shape (n_inputs, n_neurons)
        Synaptic delays in seconds.
    assignments_ : ndarray, shape (n_neurons,)
        Class of each neuron (-1: never fired during assignment).
    assignment_counts_ : ndarray, shape (n_assign, n_neurons)
        Spike counts used for the assignment.
    image_shape_ : tuple
        Shape of one input image.
    n_features_in_ : int
        Number of input pixels.
    classes_ : ndarray
        Class labels 0..n_classes-1.
    training_presentations_ : int
        Presentations during training, retries included.
    timings_ : dict
        Seconds spent in compilation, training, assignment.
    input_mean_ : float
        Mean pixel value of the first training images (the target of the input
        normalisation; recipes with ``input_normalisation`` only).
    """

    def __init__(
        self,
        n_neurons: int = 100,
        learning_rule: str = DEFAULT_RULE,
        presentation_time: float = float(M.presentation_time / M.second),
        resting_time: float = float(M.resting_time / M.second),
        n_assign: int | None = None,
        n_repeats: int = 1,
        backend: str = "standalone",
        chunk_size: int = 250,
        n_copies: int = 8,
        inference_chunk_size: int = 125,
        openmp_threads: int = 0,
        checkpoint_dir: str | None = None,
        checkpoint_every: int = 1000,
        cache_dir: str | None = None,
        progress: bool = True,
        random_state: int = 0,
        recipe: str = DEFAULT_RECIPE,
        recipe_options: dict | None = None,
    ):
        self.n_neurons = n_neurons
        self.learning_rule = learning_rule
        self.presentation_time = presentation_time
        self.resting_time = resting_time
        self.n_assign = n_assign
        self.n_repeats = n_repeats
        self.backend = backend
        self.chunk_size = chunk_size
        self.n_copies = n_copies
        self.inference_chunk_size = inference_chunk_size
        self.openmp_threads = openmp_threads
        self.checkpoint_dir = checkpoint_dir
        self.checkpoint_every = checkpoint_every
        self.cache_dir = cache_dir
        self.progress = progress
        self.random_state = random_state
        self.recipe = recipe
        self.recipe_options = recipe_options

    # ------------------------------------------------------------------ params
    _PARAM_NAMES = (
        "n_neurons", "learning_rule", "presentation_time", "resting_time", "n_assign",
        "n_repeats", "backend", "chunk_size", "n_copies", "inference_chunk_size",
        "openmp_threads", "checkpoint_dir", "checkpoint_every", "cache_dir", "progress",
        "random_state", "recipe", "recipe_options",
    )

    def get_params(self, deep: bool = True) -> dict:
        """Parameters of this estimator (scikit-learn convention)."""
        return {name: getattr(self, name) for name in self._PARAM_NAMES}

    def set_params(self, **params) -> "DiehlCookSNN":
        """Set parameters (scikit-learn convention)."""
        for name, value in params.items():
            if name not in self._PARAM_NAMES:
                raise ConfigError(f"unknown parameter {name!r} of DiehlCookSNN")
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        defaults = DiehlCookSNN()
        changed = [f"{k}={v!r}" for k, v in self.get_params().items()
                   if getattr(defaults, k) != v]
        return f"DiehlCookSNN({', '.join(changed)})"

    def _validate_params(self) -> None:
        def positive_int(name, minimum=1):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
                raise ConfigError(f"{name} must be an integer >= {minimum}, got {value!r}")

        for name in ("n_neurons", "n_repeats", "chunk_size", "n_copies",
                     "inference_chunk_size", "checkpoint_every"):
            positive_int(name)
        positive_int("openmp_threads", 0)
        if self.n_neurons < 2:
            raise ConfigError("n_neurons must be at least 2 (lateral inhibition needs two neurons)")
        get_rule(self.learning_rule)
        for name in ("presentation_time", "resting_time"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not np.isfinite(value) or value < 0:
                raise ConfigError(f"{name} must be a non-negative number of seconds, got {value!r}")
        if self.presentation_time <= float(M.dt / M.second):
            raise ConfigError("presentation_time must be longer than one time step (0.5 ms)")
        for name in ("presentation_time", "resting_time"):
            try:
                time_steps(getattr(self, name))
            except ValueError:
                raise ConfigError(f"{name} must be a whole number of {M.dt} time steps, "
                                  f"got {getattr(self, name)!r} s") from None
        if self.backend not in ("standalone", "runtime", "cython"):
            raise ConfigError(
                f"backend must be 'standalone', 'runtime' or 'cython', got {self.backend!r}"
            )
        if self.n_assign is not None:
            positive_int("n_assign")
        self._recipe()

    def _recipe(self) -> Recipe:
        """The recipe with its options applied (checked)."""
        return resolve_recipe(self.recipe, self.recipe_options)

    # ------------------------------------------------------------- simulators
    def _shape(self, *, learning: bool, **kw) -> NetworkShape:
        recipe = self._recipe()
        base = dict(
            n_input=self.n_features_in_, n_neurons=self.n_neurons,
            presentation_time=float(self.presentation_time),
            resting_time=float(self.resting_time),
            scheduled=recipe.scheduled,
        )
        if learning:
            base.update(n_slots=self.chunk_size, rule=self.learning_rule, n_copies=1,
                        theta_decay=recipe.theta_decay)
        else:
            base.update(n_slots=self.inference_chunk_size, rule=None, n_copies=self.n_copies)
        base.update(kw)
        return NetworkShape(**base)

    def _simulator(self, shape: NetworkShape):
        start = time.perf_counter()
        sim = make_simulator(shape, self.backend, openmp_threads=self.openmp_threads,
                             cache=self.cache_dir)
        self.timings_["build"] = self.timings_.get("build", 0.0) + time.perf_counter() - start
        return sim

    def compile(self, n_features_in: int) -> dict[str, float]:
        """Build the learning and the inference network ahead of time.

        With the standalone back end this compiles both (in parallel, each in
        its own process) unless they are in the cache already; ``fit`` then
        starts at once. Runtime back ends build them one after the other.
        Useful to overlap compilation with other work.

        Parameters
        ----------
        n_features_in : int
            Number of input pixels (64 for digits, 784 for MNIST).

        Returns
        -------
        dict
            Seconds spent on each network ("learning", "inference").
        """
        import threading

        self._validate_params()
        if hasattr(self, "n_features_in_") and self.n_features_in_ != n_features_in:
            raise ConfigError(
                f"this network takes {self.n_features_in_} inputs, not {n_features_in}")
        self.n_features_in_ = int(n_features_in)
        if not hasattr(self, "timings_"):
            self.timings_ = {}
        seconds: dict[str, float] = {}
        sims: dict[str, Any] = {}

        errors: list[BaseException] = []

        def build(name: str, shape: NetworkShape) -> None:
            start = time.perf_counter()
            try:
                sims[name] = make_simulator(shape, self.backend,
                                            openmp_threads=self.openmp_threads,
                                            cache=self.cache_dir)
            except BaseException as err:  # re-raised in the calling thread
                errors.append(err)
            seconds[name] = time.perf_counter() - start

        shapes = {"learning": self._shape(learning=True), "inference": self._shape(learning=False)}
        parallel = self.backend == "standalone"  # each build runs in a child process
        if parallel:
            threads = [threading.Thread(target=build, args=item) for item in shapes.items()]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        else:  # runtime networks are Brian2 objects of this process: one at a time
            for item in shapes.items():
                build(*item)
        if errors:
            raise errors[0]
        self._training_sim, self._inference_sim = sims["learning"], sims["inference"]
        spent = max(seconds.values()) if parallel else sum(seconds.values())
        self.timings_["build"] = self.timings_.get("build", 0.0) + spent
        return seconds

    def _progress_bar(self, total: int, desc: str):
        from tqdm.auto import tqdm

        return tqdm(total=total, desc=desc, unit="img", disable=not self.progress,
                    dynamic_ncols=True, smoothing=0.1)

    def _encoder(self):
        """Pixel rows -> input rates of this recipe (None: the paper's pixel / 8)."""
        if not self._recipe().input_normalisation:
            return None
        mean = float(self.input_mean_)
        return lambda rows: normalised_rows(rows, mean)

    def _controls(self) -> dict:
        """Per-run values of a scheduled network during inference."""
        recipe = self._recipe()
        return {"w_inh": recipe.inhibition(1.0)} if recipe.scheduled else {}

    # -------------------------------------------------------------- learning
    def _check_X(self, X, *, fitting: bool) -> np.ndarray:
        X = np.asarray(X)
        flat = flatten_images(X)
        if fitting:
            self.image_shape_ = tuple(X.shape[1:]) if X.ndim == 3 else (flat.shape[1],)
            self.n_features_in_ = flat.shape[1]
        else:
            self._check_fitted()
            if flat.shape[1] != self.n_features_in_:
                raise ConfigError(
                    f"images have {flat.shape[1]} pixels but the network was trained on "
                    f"{self.n_features_in_} (image shape {self.image_shape_})"
                )
        return flat

    def _check_fitted(self, assigned: bool = False) -> None:
        if not hasattr(self, "weights_"):
            raise ConfigError("this DiehlCookSNN is not trained yet; call fit() or load() first")
        if assigned and not hasattr(self, "assignments_"):
            raise ConfigError("neurons have no labels yet; call fit(X, y) or assign(X, y) first")

    def partial_fit(self, X) -> "DiehlCookSNN":
        """Continue unsupervised STDP learning on the images `X` (labels unused).

        The first call initialises the network. Thresholds keep adapting.
        """
        self._validate_params()
        if not hasattr(self, "weights_"):
            flat = self._check_X(X, fitting=True)
            rng = np.random.default_rng(self.random_state)
            self._state = initial_state(self.n_features_in_, self.n_neurons, rng)
            self._state.weights = normalise_weights(self._state.weights, self.n_features_in_)
            self.training_presentations_ = 0
            self.n_training_images_ = 0
            self.timings_ = {}
            if self._recipe().input_normalisation:
                self.input_mean_ = mean_pixel_value(flat)
        else:
            flat = self._check_X(X, fitting=False)
            self._state = self._get_state()
        self._learn(flat)
        return self

    def fit(self, X, y) -> "DiehlCookSNN":
        """Learn from `X` without labels, then assign labels with `y`.

        Parameters
        ----------
        X : array_like, shape (n, h, w) or (n, n_pixels)
            Images with values in 0..255.
        y : array_like, shape (n,)
            Integer class labels, used only for the assignment.
        """
        self._validate_params()
        y = self._check_y(y, len(X))
        for attr in ("weights_", "assignments_"):
            if hasattr(self, attr):
                delattr(self, attr)
        self.partial_fit(X)
        n_assign = len(X) if self.n_assign is None else min(self.n_assign, len(X))
        return self.assign(np.asarray(X)[:n_assign], y[:n_assign])

    def _check_y(self, y, n: int) -> np.ndarray:
        y = np.asarray(y)
        if y.ndim != 1 or len(y) != n:
            raise ConfigError(f"y must be a 1-D array of {n} labels, got shape {y.shape}")
        if not np.issubdtype(y.dtype, np.integer):
            if np.issubdtype(y.dtype, np.floating) and np.all(y == np.round(y)):
                y = y.astype(np.int64)
            else:
                raise ConfigError("labels must be integers 0..n_classes-1")
        if y.min() < 0:
            raise ConfigError("labels must be non-negative integers")
        return y.astype(np.int64)

    def _learn(self, flat: np.ndarray) -> None:
        stim = flat
        n_passes = self._recipe().n_passes
        if n_passes > 1:  # later passes in new random orders (no labels involved)
            rng = np.random.default_rng([self.random_state, 1])
            stim = np.concatenate([flat] + [flat[rng.permutation(len(flat))]
                                            for _ in range(n_passes - 1)])
        progress = TrainingProgress()
        ckpt = self._checkpoint_path()
        data_hash = hashlib.sha256(
            str(flat.dtype).encode() + np.ascontiguousarray(flat).tobytes()).hexdigest()
        if ckpt is not None and ckpt.exists():
            self._state, progress = self._read_checkpoint(ckpt, data_hash)
        shape = self._shape(learning=True)
        if getattr(self, "_training_sim", None) is None or self._training_sim.shape != shape:
            self._training_sim = self._simulator(shape)
        sim = self._training_sim
        bar = self._progress_bar(len(stim), f"training ({self.learning_rule}, {self.recipe})")
        recipe = self._recipe()
        schedule = None
        if recipe.scheduled:
            def schedule(fraction: float) -> dict:
                return {"eta_scale": recipe.eta_scale(fraction),
                        "w_inh": recipe.inhibition(fraction)}
        bar.update(progress.next_image)
        last_saved = [progress.next_image]

        def on_chunk(state: NetworkState, prog: TrainingProgress, n_finished: int) -> None:
            bar.update(n_finished)
            if ckpt is not None and (prog.next_image - last_saved[0] >= self.checkpoint_every
                                     or prog.next_image >= len(stim)):
                self._write_checkpoint(ckpt, state, prog, data_hash)
                last_saved[0] = prog.next_image

        start = time.perf_counter()
        try:
            state, progress = train_chunks(
                sim, stim, self._state, random_state=self.random_state, progress=progress,
                on_chunk=on_chunk, encode=self._encoder(), schedule=schedule,
            )
        finally:
            bar.close()
        self.timings_["train"] = self.timings_.get("train", 0.0) + time.perf_counter() - start
        self._set_state(state)
        self.training_presentations_ += progress.presentations
        self.n_training_images_ += len(flat)

    # ------------------------------------------------------------ checkpoints
    def _checkpoint_path(self) -> Path | None:
        if self.checkpoint_dir is None:
            return None
        Path(self.checkpoint_dir).mkdir(parents=True, exist_ok=True)
        return Path(self.checkpoint_dir) / "checkpoint.npz"

    def _checkpoint_identity(self, data_hash: str) -> dict:
        recipe = self._recipe()
        extra = {} if recipe == Recipe(DEFAULT_RECIPE) else {"recipe": recipe.to_dict()}
        return dict(**extra, n_neurons=self.n_neurons, learning_rule=self.learning_rule,
                    presentation_time=self.presentation_time, resting_time=self.resting_time,
                    chunk_size=self.chunk_size, random_state=self.random_state,
                    n_features=self.n_features_in_, data_sha256=data_hash)

    def _write_checkpoint(self, path: Path, state: NetworkState, prog: TrainingProgress,
                          data_hash: str) -> None:
        meta = dict(identity=self._checkpoint_identity(data_hash), progress=prog.__dict__)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, meta=np.array(json.dumps(meta)),
                 **{k: getattr(state, k) for k in _STATE_ARRAYS})
        os.replace(tmp, path)  # atomic: an interruption never leaves half a checkpoint

    def _read_checkpoint(self, path: Path, data_hash: str) -> tuple[NetworkState, TrainingProgress]:
        try:
            with np.load(path, allow_pickle=False) as f:
                meta = json.loads(str(f["meta"]))
                state = NetworkState(*(np.array(f[k], dtype=float) for k in _STATE_ARRAYS))
        except Exception as err:  # noqa: BLE001 - any damage means the same to the user
            raise ModelFileError(
                f"checkpoint {path} is damaged ({err}); delete it to start training afresh"
            ) from None
        expected = self._checkpoint_identity(data_hash)
        if meta.get("identity") != expected:
            diff = sorted(k for k in expected if meta.get("identity", {}).get(k) != expected[k])
            raise ModelFileError(
                f"checkpoint {path} belongs to a different training run (differs in: "
                f"{', '.join(diff)}); use another checkpoint folder or delete it"
            )
        return state, TrainingProgress(**meta["progress"])

    # ----------------------------------------------------------- state access
    def _set_state(self, state: NetworkState) -> None:
        self.weights_ = state.weights
        self.delays_ = state.delays
        self.theta_ = state.theta
        self._v_exc, self._v_inh = state.v_exc, state.v_inh

    def _get_state(self) -> NetworkState:
        n = self.n_neurons
        v_exc = getattr(self, "_v_exc", np.full(n, float(M.v_rest_e)))
        v_inh = getattr(self, "_v_inh", np.full(n, float(M.v_rest_i)))
        return NetworkState(self.weights_, self.delays_, self.theta_, v_exc, v_inh)

    # ------------------------------------------------------------- inference
    def respond(self, X, *, desc: str = "responses") -> InferenceResult:
        """Frozen network's responses to `X`: spike counts and spike totals per image."""
        flat = self._check_X(X, fitting=False)
        if not hasattr(self, "timings_"):
            self.timings_ = {}
        shape = self._shape(learning=False)
        if getattr(self, "_inference_sim", None) is None or self._inference_sim.shape != shape:
            self._inference_sim = self._simulator(shape)
        bar = self._progress_bar(len(flat), desc)
        try:
            return infer_chunks(
                self._inference_sim, flat, self._get_state(),
                random_state=self.random_state + 1, n_repeats=self.n_repeats,
                on_chunk=lambda n: bar.update(n / self.n_repeats),
                encode=self._encoder(), controls=self._controls(),
            )
        finally:
            bar.close()

    def transform(self, X) -> np.ndarray:
        """Excitatory spike counts per image, shape (n_images, n_neurons)."""
        return self.respond(X).counts

    def assign(self, X, y) -> "DiehlCookSNN":
        """Freeze the network and label each neuron with its preferred class."""
        self._check_fitted()
        y = self._check_y(y, len(X))
        start = time.perf_counter()
        counts = self.respond(X, desc="label assignment").counts
        self.n_classes_ = int(max(y.max() + 1, getattr(self, "n_classes_", 0)))
        self.classes_ = np.arange(self.n_classes_)
        self.assignments_ = assign_labels(counts, y, self.n_classes_)
        self.assignment_counts_ = counts
        self.n_assign_ = len(y)
        self.timings_["assign"] = time.perf_counter() - start
        return self

    def decision_function(self, X) -> np.ndarray:
        """Mean spike count of the neurons assigned to each class, (n_images, n_classes)."""
        self._check_fitted(assigned=True)
        return class_scores(self.transform(X), self.assignments_, self.n_classes_)

    def predict(self, X) -> np.ndarray:
        """Predicted class of each image."""
        self._check_fitted(assigned=True)
        return predict_from_counts(self.transform(X), self.assignments_, self.n_classes_)

    def predict_from_counts(self, counts: np.ndarray) -> np.ndarray:
        """Predicted classes from spike counts returned by :meth:`transform`."""
        self._check_fitted(assigned=True)
        return predict_from_counts(counts, self.assignments_, self.n_classes_)

    def score(self, X, y) -> float:
        """Fraction of images classified correctly."""
        y = self._check_y(y, len(X))
        return float(np.mean(self.predict(X) == y))

    # ------------------------------------------------------------- recording
    def record_example(self, x, *, resting: bool = True) -> dict[str, Any]:
        """Simulate one image with learning off and record everything.

        Runs in Brian2's runtime mode (no compilation) for a single presentation
        at the starting rate.

        Returns
        -------
        dict
            ``input_spikes``, ``exc_spikes``, ``inh_spikes``: (indices, times in s);
            ``t`` (s), ``v`` (n_neurons, n_times) in volts, ``threshold``
            (n_neurons,) in volts, ``counts`` (n_neurons,) spike counts during
            the presentation, ``rates`` input rates in Hz.
        """
        from brainsim.simulation import ChunkInput, RuntimeSimulator

        self._check_fitted()
        flat = self._check_X(np.asarray(x)[None], fitting=False)
        shape = self._shape(learning=False, n_slots=1, n_copies=1, record_input_spikes=True,
                            record_traces=True,
                            resting_time=float(self.resting_time) if resting else 0.0)
        sim = RuntimeSimulator(shape)
        encode = self._encoder() or stimulus_rows
        out = sim.run(self._get_state(), ChunkInput(
            stimulus=encode(flat), n_rows=np.array([1.0]), img=np.array([-1.0]),
            count=np.array([float(M.min_spikes)]), intensity=np.array([M.intensity_start]),
            seed=self.random_state + 2, **self._controls(),
        ))
        rec = dict(out.recordings)
        rec["threshold"] = self.theta_ + float(M.v_thresh_e - M.theta_offset)
        rec["counts"] = out.exc_counts[0, 0]
        rec["rates"] = encode(flat)[0] * M.intensity_start
        rec["presentation_time"] = float(self.presentation_time)
        return rec

    # ------------------------------------------------------------ save / load
    def save(self, path: str | os.PathLike) -> Path:
        """Write the trained network to ``path`` (.npz with a JSON header, no pickle)."""
        from brainsim.cli import library_versions

        self._check_fitted()
        path = Path(path)
        if path.suffix != ".npz":
            path = path.with_suffix(".npz")
        path.parent.mkdir(parents=True, exist_ok=True)
        header = dict(
            format=FILE_FORMAT, format_version=FILE_FORMAT_VERSION, brainsim=__version__,
            versions=library_versions(), params=self.get_params(),
            image_shape=list(self.image_shape_),
            n_classes=int(getattr(self, "n_classes_", 0)),
            training_presentations=int(getattr(self, "training_presentations_", 0)),
            n_training_images=int(getattr(self, "n_training_images_", 0)),
        )
        if hasattr(self, "input_mean_"):
            header["input_mean"] = float(self.input_mean_)
        state = self._get_state()
        arrays = dict(weights=self.weights_, delays=self.delays_, theta=self.theta_,
                      v_exc=state.v_exc, v_inh=state.v_inh)
        if hasattr(self, "assignments_"):
            arrays["assignments"] = self.assignments_
        np.savez_compressed(path, header=np.array(json.dumps(header)), **arrays)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> "DiehlCookSNN":
        """Read a network written by :meth:`save`.

        Raises
        ------
        ModelFileError
            If the file is missing, damaged, not a brainsim network, of a newer
            format, or its arrays do not fit together.
        """
        path = Path(path)
        if not path.exists() and path.suffix != ".npz" and path.with_suffix(".npz").exists():
            path = path.with_suffix(".npz")  # the name given to save()
        if not path.exists():
            raise ModelFileError(f"no saved network at {path}")
        try:
            with np.load(path, allow_pickle=False) as f:
                header = json.loads(str(f["header"]))
                arrays = {k: np.array(f[k]) for k in f.files if k != "header"}
        except Exception as err:  # noqa: BLE001
            raise ModelFileError(
                f"{path} is not a readable brainsim network file ({type(err).__name__}: {err})"
            ) from None
        if header.get("format") != FILE_FORMAT:
            raise ModelFileError(f"{path} is not a brainsim Diehl & Cook network file")
        if header.get("format_version", 0) > FILE_FORMAT_VERSION:
            raise ModelFileError(
                f"{path} was written by a newer brainsim (format {header['format_version']}); "
                "upgrade brainsim to read it"
            )
        params = header["params"]
        snn = cls(**{k: v for k, v in params.items() if k in cls._PARAM_NAMES})
        n_in = int(np.prod(header["image_shape"]))
        expected = {"weights": (n_in, snn.n_neurons), "delays": (n_in, snn.n_neurons),
                    "theta": (snn.n_neurons,)}
        for key, shp in expected.items():
            if key not in arrays or arrays[key].shape != shp:
                raise ModelFileError(
                    f"{path}: array {key!r} is missing or has the wrong shape "
                    f"(expected {shp}); the file is damaged"
                )
        snn.image_shape_ = tuple(header["image_shape"])
        snn.n_features_in_ = n_in
        v_exc = arrays.get("v_exc", np.full(snn.n_neurons, float(M.v_rest_e)))
        v_inh = arrays.get("v_inh", np.full(snn.n_neurons, float(M.v_rest_i)))
        if v_exc.shape != (snn.n_neurons,) or v_inh.shape != (snn.n_neurons,):
            raise ModelFileError(f"{path}: membrane potentials have the wrong shape")
        snn._set_state(NetworkState(arrays["weights"].astype(float), arrays["delays"].astype(float),
                                    arrays["theta"].astype(float), v_exc.astype(float),
                                    v_inh.astype(float)))
        snn.training_presentations_ = header.get("training_presentations", 0)
        snn.n_training_images_ = header.get("n_training_images", 0)
        if "input_mean" in header:
            snn.input_mean_ = float(header["input_mean"])
        elif snn._recipe().input_normalisation:
            raise ModelFileError(f"{path}: the input normalisation's mean pixel value is "
                                 "missing; the file is damaged")
        snn.timings_ = {}
        if "assignments" in arrays:
            if arrays["assignments"].shape != (snn.n_neurons,):
                raise ModelFileError(f"{path}: assignments have the wrong shape")
            snn.assignments_ = arrays["assignments"].astype(int)
            snn.n_classes_ = int(header.get("n_classes") or snn.assignments_.max() + 1)
            snn.classes_ = np.arange(snn.n_classes_)
        snn.saved_versions_ = header.get("versions", {})
        return snn
