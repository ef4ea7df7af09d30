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
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from brainsim import __version__
from brainsim import model as M
from brainsim.encoding import flatten_images, mean_pixel_value, normalised_rows, stimulus_rows
from brainsim.errors import BrainsimError, ConfigError, ModelFileError, NotFittedError
from brainsim.fileio import lock_folder, write_npz
from brainsim.network import NetworkShape, time_steps
from brainsim.plasticity import get_rule
from brainsim.presentation import (
    InferenceResult,
    TrainingProgress,
    infer_blocks,
    infer_chunks,
    parallel_blocks,
    train_chunks,
)
from brainsim.recipes import DEFAULT_RECIPE, Recipe, resolve_recipe
from brainsim.readout import assign_labels, class_scores, predict_from_counts
from brainsim.simulation import NetworkState, initial_state, make_simulator, normalise_weights


class _Epochs:
    """The rows of `images` repeated `n_epochs` times, same order, without copying.

    Supports what :func:`~brainsim.presentation.train_chunks` uses: ``shape``,
    ``len`` and slices with step 1.
    """

    def __init__(self, images: np.ndarray, n_epochs: int):
        self.images, self.n_epochs = images, int(n_epochs)
        self.shape = (images.shape[0] * self.n_epochs, *images.shape[1:])

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, rows: slice) -> np.ndarray:
        start, stop, step = rows.indices(self.shape[0])
        if step != 1:
            raise IndexError("only contiguous slices of the epochs are supported")
        return self.images[np.arange(start, stop) % self.images.shape[0]]


FILE_FORMAT = "brainsim-diehl-cook"
#: 2: the class labels are stored (``classes``); version 1 files (labels 0..n-1) still load.
FILE_FORMAT_VERSION = 2
_STATE_ARRAYS = ("weights", "delays", "theta", "v_exc", "v_inh")


class LabelWarning(UserWarning):
    """Some classes cannot be predicted (no assignment images or no neurons)."""


class DiehlCookSNN(ClassifierMixin, BaseEstimator):
    """Unsupervised spiking network with STDP and lateral inhibition.

    Parameters
    ----------
    n_neurons : int
        Excitatory neurons (and as many inhibitory ones). [DC15]: 100 to 6400.
    learning_rule : str or None
        "power_law", "exponential", "pre_post", "triplet" or "instar"; see
        :mod:`brainsim.plasticity`. None (default): the recipe's rule
        (``power_law`` for the faithful recipe).
    presentation_time, resting_time : float
        Seconds each image is shown / the network rests (350 ms, 150 ms).
    n_assign : int or None
        Training images (the first ones) used for label assignment; None: all.
    n_epochs : int
        Passes over the training images in each call of ``fit`` or
        ``partial_fit`` ([DC15] shows the training set 3, 7 and 15 times to
        the larger networks; see :mod:`brainsim.protocols`). Every pass shows
        the images in the same order, as the authors' code does; the spike
        trains differ between passes. A checkpoint resumes mid-pass.
    n_repeats : int or None
        Presentations of each image during assignment and prediction whose
        spike counts are summed. None (default): the recipe's
        ``inference_repeats`` (1 for the faithful recipe).
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
        Threads of the compiled binary (0: single-threaded build). On a 2-core
        machine the single-threaded build was the fastest up to 1,600 neurons
        (2 threads: 0.77x training at 1,600); use `learning_processes` to
        spread training and `n_jobs` to spread inference over cores
        (docs/performance.md, Threads).
    learning_processes : int
        Processes that share the learning network (``fit``, ``partial_fit``),
        each simulating ``n_neurons / learning_processes`` excitatory and
        inhibitory neurons on a core of its own; they exchange the inhibitory
        spikes of every time step through shared memory
        (:class:`brainsim.simulation.PartsSimulator`). 1 (default): one
        process. The same spikes and weights as one process (membrane
        potentials may differ in the last bit where the compiler's vector
        loops split differently); 2 on a 2-core machine: about 1.6x faster
        training at 1,600 neurons (docs/performance.md, Threads). Standalone
        back end, single-threaded (``openmp_threads=0``), ``n_neurons`` a
        multiple of it.
    n_jobs : int or None
        Inference (label assignment, :meth:`respond`, :meth:`transform`,
        :meth:`predict`, :meth:`score`) in parallel processes. None (default):
        the images are shown as one stream of chunks, as before this option
        existed. An integer k >= 1 (-1: every core, as in scikit-learn): the
        images are split into blocks of ``n_copies * inference_chunk_size``
        images, each seeded from its index, and up to k blocks run at once,
        each in its own single-threaded binary; the result is the same for
        every k (and statistically equivalent to None), and k binaries need k
        times the memory of one. The runtime and cython back ends run the
        blocks one after the other. Learning (``fit``'s STDP phase,
        ``partial_fit``) is sequential by nature and unaffected. See
        docs/performance.md, "Threads".
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
    learning_rule_ : str
        The rule in use: ``learning_rule``, or the recipe's when that is None.
    weights_ : ndarray, shape (n_inputs, n_neurons)
        Learned input weights.
    theta_ : ndarray, shape (n_neurons,)
        Adaptive threshold in volts (the firing threshold is
        v_thresh_e + theta - 20 mV).
    delays_ : ndarray, shape (n_inputs, n_neurons)
        Synaptic delays in seconds.
    assignments_ : ndarray, shape (n_neurons,)
        Class of each neuron as an index into ``classes_`` (-1: never fired
        during assignment).
    assignment_counts_ : ndarray, shape (n_assign, n_neurons)
        Spike counts used for the assignment.
    image_shape_ : tuple
        Shape of one input image.
    n_features_in_ : int
        Number of input pixels.
    classes_ : ndarray, shape (n_classes,)
        The sorted distinct labels of ``y`` given to :meth:`fit` (any values:
        integers, strings, -1/1, ...); :meth:`predict` returns these.
    n_classes_ : int
        ``len(classes_)``.
    training_presentations_ : int
        Presentations during training, retries included.
    homeostasis_strength_ : float
        Factor on theta_plus (0.05 mV per spike) in the last learning run
        (the recipe's ``homeostasis_factor`` for this size and run length).
    n_training_images_ : int
        Images learned, counted once per epoch.
    timings_ : dict
        Seconds spent in compilation, training, assignment.
    input_mean_ : float
        Mean pixel value of the first training images (the target of the input
        normalisation; recipes with ``input_normalisation`` only).
    """

    def __init__(
        self,
        n_neurons: int = 100,
        learning_rule: str | None = None,
        presentation_time: float = float(M.presentation_time / M.second),
        resting_time: float = float(M.resting_time / M.second),
        n_assign: int | None = None,
        n_epochs: int = 1,
        n_repeats: int | None = None,
        backend: str = "standalone",
        chunk_size: int = 250,
        n_copies: int = 8,
        inference_chunk_size: int = 125,
        openmp_threads: int = 0,
        learning_processes: int = 1,
        n_jobs: int | None = None,
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
        self.n_epochs = n_epochs
        self.n_repeats = n_repeats
        self.backend = backend
        self.chunk_size = chunk_size
        self.n_copies = n_copies
        self.inference_chunk_size = inference_chunk_size
        self.openmp_threads = openmp_threads
        self.learning_processes = learning_processes
        self.n_jobs = n_jobs
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
        "n_epochs", "n_repeats", "backend", "chunk_size", "n_copies", "inference_chunk_size",
        "openmp_threads", "checkpoint_dir", "checkpoint_every", "cache_dir", "progress",
        "random_state", "recipe", "recipe_options", "n_jobs", "learning_processes",
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

    def __sklearn_tags__(self):
        """scikit-learn tags: a classifier (with ``transform``) of non-negative dense images."""
        from sklearn.utils import TransformerTags

        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True  # pixel intensities 0..255
        tags.input_tags.allow_nan = False
        tags.input_tags.sparse = False
        tags.transformer_tags = TransformerTags()  # transform(): spike counts per neuron
        tags.classifier_tags.poor_score = True  # small networks on few images
        tags.non_deterministic = False  # same random_state, same spikes
        return tags

    def _validate_params(self) -> None:
        def positive_int(name, minimum=1):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
                raise ConfigError(f"{name} must be an integer >= {minimum}, got {value!r}")

        for name in ("n_neurons", "n_epochs", "chunk_size", "n_copies",
                     "inference_chunk_size", "checkpoint_every"):
            positive_int(name)
        if self.n_repeats is not None:
            positive_int("n_repeats")
        positive_int("openmp_threads", 0)
        positive_int("learning_processes")
        if self.learning_processes > 1:
            if self.backend != "standalone" or self.openmp_threads:
                raise ConfigError(
                    "learning_processes > 1 runs the compiled single-threaded network: use "
                    "backend='standalone' and openmp_threads=0 (in the scripts: no --threads)")
            if isinstance(self.n_neurons, (int, np.integer)) and self.n_neurons % self.learning_processes:
                raise ConfigError(
                    f"learning_processes={self.learning_processes} does not divide "
                    f"n_neurons={self.n_neurons}; each process simulates an equal part")
        self._check_n_jobs()
        if self.n_neurons < 2:
            raise ConfigError("n_neurons must be at least 2 (lateral inhibition needs two neurons)")
        if self.learning_rule is not None:
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
        positive_int("random_state", 0)
        self._recipe()

    def _check_n_jobs(self) -> int | None:
        """``n_jobs`` checked; returns the number of blocks run at once (None: no blocks)."""
        return parallel_blocks(self.n_jobs)

    def _recipe(self) -> Recipe:
        """The recipe with its options applied (checked)."""
        return resolve_recipe(self.recipe, self.recipe_options)

    def effective_n_repeats(self) -> int:
        """Presentations per image while frozen: ``n_repeats`` or the recipe's."""
        if self.n_repeats is not None:
            return int(self.n_repeats)
        return int(self._recipe().inference_repeats)

    def _rule(self) -> str:
        """The learning rule: ``learning_rule``, or the recipe's when that is None."""
        return self.learning_rule if self.learning_rule is not None else self._recipe().rule

    @property
    def learning_rule_(self) -> str:
        """The learning rule in use (``learning_rule`` or, if None, the recipe's)."""
        return self._rule()

    # ------------------------------------------------------------- simulators
    def _shape(self, *, learning: bool, fit_images: int | None = None, **kw) -> NetworkShape:
        """Network shape; `fit_images`: presentations of the whole fit (None: a stream)."""
        recipe = self._recipe()
        base = dict(
            n_input=self.n_features_in_, n_neurons=self.n_neurons,
            presentation_time=float(self.presentation_time),
            resting_time=float(self.resting_time),
            scheduled=recipe.scheduled,
        )
        if learning:
            base.update(n_slots=self.chunk_size, rule=self._rule(), n_copies=1,
                        theta_decay=recipe.theta_decay,
                        homeostasis_speed=float(recipe.homeostasis_speed),
                        homeostasis_strength=recipe.homeostasis_factor(
                            self.n_neurons, None if fit_images is None else
                            fit_images * (float(self.presentation_time) + float(self.resting_time))))
        else:
            base.update(n_slots=self.inference_chunk_size, rule=None, n_copies=self.n_copies)
        base.update(kw)
        return NetworkShape(**base)

    def _simulator(self, shape: NetworkShape):
        start = time.perf_counter()
        sim = make_simulator(shape, self.backend, openmp_threads=self.openmp_threads,
                             cache=self.cache_dir, parts=self._parts(shape))
        self.timings_["build"] = self.timings_.get("build", 0.0) + time.perf_counter() - start
        return sim

    def _parts(self, shape: NetworkShape) -> int:
        """Processes that run `shape`: ``learning_processes`` for the learning network."""
        return int(self.learning_processes) if shape.learning else 1

    def compile(self, n_features_in: int, n_images: int | None = None) -> dict[str, float]:
        """Build the learning and the inference network ahead of time.

        With the standalone back end this compiles both (in parallel, each in
        its own process) unless they are in the cache already; ``fit`` then
        starts at once. Runtime back ends build them one after the other.
        Useful to overlap compilation with other work.

        Parameters
        ----------
        n_features_in : int
            Number of input pixels (64 for digits, 784 for MNIST).
        n_images : int, optional
            Training images that :meth:`fit` will get; needed by recipes whose
            learning network depends on the length of the fit
            (``homeostasis_scaling``). None: the network of :meth:`partial_fit`.

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
                                            cache=self.cache_dir, parts=self._parts(shape))
            except BaseException as err:  # re-raised in the calling thread
                errors.append(err)
            seconds[name] = time.perf_counter() - start

        fit_images = None if n_images is None else self._fit_presentations(int(n_images))
        shapes = {"learning": self._shape(learning=True, fit_images=fit_images),
                  "inference": self._shape(learning=False)}
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
        return {"w_inh": recipe.inhibition(None)} if recipe.scheduled else {}

    # -------------------------------------------------------------- learning
    def _check_X(self, X, *, fitting: bool) -> np.ndarray:
        flat = _check_images(X)
        X_shape = np.shape(X)
        if fitting:
            self.image_shape_ = tuple(X_shape[1:]) if len(X_shape) == 3 else (flat.shape[1],)
            self.n_features_in_ = flat.shape[1]
        else:
            self._check_fitted()
            if flat.shape[1] != self.n_features_in_:
                raise ConfigError(
                    f"images have {flat.shape[1]} pixels but the network was trained on "
                    f"{self.n_features_in_} (image shape {self.image_shape_}); give images "
                    f"of the training shape"
                )
            if (len(X_shape) == 3 and len(self.image_shape_) == 2
                    and tuple(X_shape[1:]) != tuple(self.image_shape_)):
                raise ConfigError(
                    f"images are {X_shape[1]}x{X_shape[2]} pixels but the network was trained "
                    f"on {self.image_shape_[0]}x{self.image_shape_[1]}; give images of the "
                    f"training shape"
                )
        return flat

    def _check_fitted(self, assigned: bool = False) -> None:
        if not hasattr(self, "weights_"):
            raise NotFittedError("this DiehlCookSNN is not trained yet; call fit() or load() first")
        if assigned and not hasattr(self, "assignments_"):
            raise NotFittedError(
                "neurons have no labels yet; call fit(X, y) or assign(X, y) first")

    def partial_fit(self, X, *, passes: int | None = None,
                    total_images: int | None = None) -> "DiehlCookSNN":
        """Continue unsupervised STDP learning on the images `X` (labels unused).

        The first call initialises the network. Thresholds keep adapting.
        Shows `X` ``n_epochs`` times, in the same order each time.

        Parameters
        ----------
        X : array_like, shape (n, h, w) or (n, n_pixels)
            Images with values in 0..255.
        passes : int, optional
            Presentations of every image of `X` within each epoch: in their
            order, then in new random orders (no labels). None (default): the
            recipe's ``n_passes`` (1 for both recipes): a batch is shown once,
            however small. The recipe's ``min_images`` (repeat a small
            training set until that many images were shown) applies to
            :meth:`fit`, which passes :meth:`training_passes`; a caller that
            streams a training set in parts and wants the same schedule passes
            ``training_passes(n)`` of the whole set with each part.
        total_images : int, optional
            Images of the whole training run that `X` belongs to (:meth:`fit`
            passes ``len(X)``; a caller streaming a training set in parts
            passes its size with each part), for recipes whose learning
            depends on the run's length (``homeostasis_scaling``: how far the
            thresholds get towards their equilibrium). None (default): an
            open-ended stream, whose thresholds reach it.
        """
        if passes is not None and (isinstance(passes, bool) or not isinstance(
                passes, (int, np.integer)) or passes < 1):
            raise ConfigError(f"passes must be a whole number >= 1, got {passes!r}")
        if total_images is not None and (isinstance(total_images, bool) or not isinstance(
                total_images, (int, np.integer)) or total_images < 1):
            raise ConfigError(f"total_images must be a whole number >= 1, got {total_images!r}")
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
        with self._checkpoint_folder_lock():  # one training process per checkpoint folder
            n_passes = self._recipe().n_passes if passes is None else int(passes)
            self._learn(flat, n_passes, fit_images=None if total_images is None else
                        self._fit_presentations(int(total_images), n_passes))
        return self

    def training_passes(self, n_images: int) -> int:
        """Passes :meth:`fit` makes over `n_images` training images.

        The recipe's ``n_passes``, or more where its ``min_images`` asks for a
        small training set to be repeated (``local_plus``: 3 passes over the
        1,010 training images of the digits default, 1 over MNIST).
        """
        return self._recipe().passes(int(n_images))

    def _fit_presentations(self, n_images: int, passes: int | None = None) -> int:
        """Planned presentations of a training run of `n_images` images (retries not
        counted), `passes` per epoch (None: :meth:`fit`'s, :meth:`training_passes`)."""
        if passes is None:
            passes = self.training_passes(n_images)
        return n_images * passes * int(self.n_epochs)

    def fit(self, X, y) -> "DiehlCookSNN":
        """Learn from `X` without labels, then assign labels with `y`.

        Parameters
        ----------
        X : array_like, shape (n, h, w) or (n, n_pixels)
            Images with values in 0..255.
        y : array_like, shape (n,)
            Class labels of any type (integers, strings, ...), used only for
            the assignment; ``classes_`` are their distinct values. At least
            two classes are needed. A class without images among the first
            ``n_assign`` images gets no neurons and is never predicted
            (:class:`LabelWarning`).
        """
        self._validate_params()
        X = _as_array(X)
        if X.ndim not in (2, 3) or len(X) == 0:
            _check_images(X)  # the error for no images or a wrong shape comes first
        y = self._check_y(y, len(X))
        classes = _classes_of(y)
        _check_images(X)
        for attr in ("weights_", "assignments_"):
            if hasattr(self, attr):
                delattr(self, attr)
        self.partial_fit(X, passes=self.training_passes(len(X)), total_images=len(X))
        n_assign = len(X) if self.n_assign is None else min(self.n_assign, len(X))
        return self._assign(X[:n_assign], y[:n_assign], classes)

    def _check_y(self, y, n: int) -> np.ndarray:
        """Labels as a 1-D array of ``n`` values (any type scikit-learn accepts)."""
        return _check_labels(y, n)

    def _learn(self, flat: np.ndarray, n_passes: int, *, fit_images: int | None = None) -> None:
        recipe = self._recipe()
        passes = flat
        # a number of passes other than fit's is part of the run (checkpoint identity)
        self._other_passes = None if n_passes == recipe.passes(len(flat)) else n_passes
        if n_passes > 1:  # recipe: later passes in new random orders (no labels involved)
            rng = np.random.default_rng([self.random_state, 1])
            passes = np.concatenate([flat] + [flat[rng.permutation(len(flat))]
                                              for _ in range(n_passes - 1)])
        stim = passes if self.n_epochs == 1 else _Epochs(passes, self.n_epochs)
        progress = TrainingProgress()
        ckpt = self._checkpoint_path()
        data_hash = hashlib.sha256(
            str(flat.dtype).encode() + np.ascontiguousarray(flat).tobytes()).hexdigest()
        # recipe: the frozen network's thresholds are the mean of those at the ends of the
        # chunks in the last part of the fit (a sum kept in the checkpoints too)
        window_start = len(stim) * (1.0 - recipe.theta_average)
        theta_sum = [np.zeros(self.n_neurons), 0]
        if ckpt is not None and ckpt.exists():
            self._state, progress, theta_sum = self._read_checkpoint(ckpt, data_hash)
        self._theta_sum = theta_sum  # written with each checkpoint of this fit
        shape = self._shape(learning=True, fit_images=fit_images)
        self.homeostasis_strength_ = shape.homeostasis_strength
        sim = getattr(self, "_training_sim", None)
        if (sim is None or sim.shape != shape
                or getattr(sim, "n_parts", 1) != self._parts(shape)):
            self._training_sim = self._simulator(shape)
        sim = self._training_sim
        bar = self._progress_bar(len(stim), f"training ({self._rule()}, {self.recipe}"
                                 + (f", {self.n_epochs} epochs)" if self.n_epochs > 1 else ")"))
        schedule = None
        if recipe.scheduled:  # learning rate and inhibition over the whole of this fit
            def schedule(fraction: float) -> dict:
                return {"eta_scale": recipe.eta_scale(fraction, len(stim)),
                        "w_inh": recipe.inhibition(fraction)}
        bar.update(progress.next_image)
        last_saved = [progress.next_image]

        def on_chunk(state: NetworkState, prog: TrainingProgress, n_finished: int) -> None:
            bar.update(n_finished)
            if window_start < len(stim) and prog.next_image > window_start:
                theta_sum[0] = theta_sum[0] + state.theta
                theta_sum[1] += 1
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
            del self._theta_sum, self._other_passes
        self.timings_["train"] = self.timings_.get("train", 0.0) + time.perf_counter() - start
        if theta_sum[1]:
            state = state.copy()
            state.theta = theta_sum[0] / theta_sum[1]
        self._set_state(state)
        self.training_presentations_ += progress.presentations
        self.n_training_images_ += len(flat) * self.n_epochs  # once per epoch, not per pass

    # ------------------------------------------------------------ checkpoints
    def _checkpoint_path(self) -> Path | None:
        if self.checkpoint_dir is None:
            return None
        Path(self.checkpoint_dir).mkdir(parents=True, exist_ok=True)
        return Path(self.checkpoint_dir) / "checkpoint.npz"

    def _checkpoint_folder_lock(self):
        """Writer lock of ``checkpoint_dir`` (a no-op without one).

        Raises :class:`~brainsim.errors.FolderInUseError` when another process
        is training into the same folder.
        """
        import contextlib

        if self.checkpoint_dir is None:
            return contextlib.nullcontext()
        return lock_folder(self.checkpoint_dir, what="checkpoint folder")

    def _checkpoint_identity(self, data_hash: str) -> dict:
        # inference_repeats acts on the frozen network only: not part of a training run
        recipe = replace(self._recipe(), inference_repeats=1)
        extra = {} if recipe == Recipe(DEFAULT_RECIPE) else {
            "recipe": {k: v for k, v in recipe.to_dict().items() if k != "inference_repeats"}}
        return dict(**extra, n_neurons=self.n_neurons, learning_rule=self._rule(),
                    presentation_time=self.presentation_time, resting_time=self.resting_time,
                    chunk_size=self.chunk_size, random_state=self.random_state,
                    n_features=self.n_features_in_, data_sha256=data_hash,
                    **self._epochs_identity(), **self._passes_identity())

    def _passes_identity(self) -> dict:
        # absent when the passes are fit's for these images (checkpoints of earlier versions)
        other = getattr(self, "_other_passes", None)
        return {} if other is None else {"passes": int(other)}

    def _epochs_identity(self) -> dict:
        # absent for one epoch, so that checkpoints of earlier versions stay valid
        return {} if self.n_epochs == 1 else {"n_epochs": int(self.n_epochs)}

    def _write_checkpoint(self, path: Path, state: NetworkState, prog: TrainingProgress,
                          data_hash: str) -> None:
        meta = dict(identity=self._checkpoint_identity(data_hash), progress=prog.__dict__)
        theta_sum = getattr(self, "_theta_sum", None)  # recipe theta_average: [sum, count]
        extra = {}
        if theta_sum is not None and theta_sum[1]:
            meta["theta_sum_count"] = int(theta_sum[1])
            extra["theta_sum"] = theta_sum[0]
        # atomic: an interruption or a full disk never leaves half a checkpoint
        write_npz(path, meta=np.array(json.dumps(meta)),
                  **{k: getattr(state, k) for k in _STATE_ARRAYS}, **extra)

    def _read_checkpoint(self, path: Path, data_hash: str
                         ) -> tuple[NetworkState, TrainingProgress, list]:
        """State, progress and [sum, count] of the thresholds averaged so far
        (recipe ``theta_average``) of a checkpoint."""
        try:
            with np.load(path, allow_pickle=False) as f:
                meta = json.loads(str(f["meta"]))
                state = NetworkState(*(np.array(f[k], dtype=float) for k in _STATE_ARRAYS))
                count = int(meta.get("theta_sum_count", 0))
                theta_sum = [np.array(f["theta_sum"], dtype=float) if count
                             else np.zeros_like(state.theta), count]
        except Exception as err:  # noqa: BLE001 - any damage means the same to the user
            raise ModelFileError(
                f"checkpoint {path} is damaged ({err}); delete it to start training afresh"
            ) from None
        expected = self._checkpoint_identity(data_hash)
        if meta.get("identity") != expected:
            stored = meta.get("identity", {})
            diff = sorted(k for k in set(expected) | set(stored)
                          if stored.get(k) != expected.get(k))
            raise ModelFileError(
                f"checkpoint {path} belongs to a different training run (differs in: "
                f"{', '.join(diff)}); use another checkpoint folder or delete it"
            )
        return state, TrainingProgress(**meta["progress"]), theta_sum

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
        """Frozen network's responses to `X`: spike counts and spike totals per image.

        With ``n_jobs`` set, blocks of images run in parallel processes
        (:func:`~brainsim.presentation.infer_blocks`).
        """
        n_jobs = self._check_n_jobs()
        flat = self._check_X(X, fitting=False)
        if not hasattr(self, "timings_"):
            self.timings_ = {}
        shape = self._shape(learning=False)
        if getattr(self, "_inference_sim", None) is None or self._inference_sim.shape != shape:
            self._inference_sim = self._simulator(shape)
        bar = self._progress_bar(len(flat), desc)
        n_repeats = self.effective_n_repeats()
        common = dict(random_state=self.random_state + 1, n_repeats=n_repeats,
                      on_chunk=lambda n: bar.update(n / n_repeats),
                      encode=self._encoder(), controls=self._controls())
        try:
            if n_jobs is None:  # one stream of chunks (the published figures)
                return infer_chunks(self._inference_sim, flat, self._get_state(), **common)
            return infer_blocks(self._inference_sim, flat, self._get_state(), n_jobs=n_jobs,
                                block_size=self.inference_block_size, **common)
        finally:
            bar.close()

    @property
    def inference_block_size(self) -> int:
        """Images per block of parallel inference (``n_jobs``): one chunk of every copy,
        ``n_copies * inference_chunk_size``; it never depends on ``n_jobs``."""
        return int(self.n_copies) * int(self.inference_chunk_size)

    def transform(self, X) -> np.ndarray:
        """Excitatory spike counts per image, shape (n_images, n_neurons)."""
        return self.respond(X).counts

    def assign(self, X, y) -> "DiehlCookSNN":
        """Freeze the network and label each neuron with its preferred class.

        ``classes_`` become the distinct values of ``y``.
        """
        self._check_fitted()
        X = _as_array(X)
        _check_images(X)
        y = self._check_y(y, len(X))
        return self._assign(X, y, _classes_of(y))

    def _assign(self, X, y: np.ndarray, classes: np.ndarray) -> "DiehlCookSNN":
        start = time.perf_counter()
        y_index = np.searchsorted(classes, np.asarray(y.tolist()) if y.dtype == object else y)
        counts = self.respond(X, desc="label assignment").counts
        self.classes_ = classes
        self.n_classes_ = len(classes)
        self.assignments_ = assign_labels(counts, y_index, self.n_classes_)
        self.assignment_counts_ = counts
        self.n_assign_ = len(y)
        self.timings_["assign"] = time.perf_counter() - start
        self._warn_about_unpredictable_classes(np.unique(y_index))
        return self

    def _warn_about_unpredictable_classes(self, present: np.ndarray) -> None:
        absent = [c for i, c in enumerate(self.classes_) if i not in set(present.tolist())]
        if absent:
            warnings.warn(
                f"classes {_show(absent)} have no images among the {self.n_assign_} assignment "
                f"images; they get no neurons and are never predicted (raise n_assign or "
                f"shuffle the training images)", LabelWarning, stacklevel=4)
        if np.all(self.assignments_ < 0):
            warnings.warn(
                "no excitatory neuron fired during the label assignment (all-black images, or "
                f"too short a training?); every image will be predicted as "
                f"{_show([self.classes_[0]])}",
                LabelWarning, stacklevel=4)
            return
        no_neurons = [c for i, c in enumerate(self.classes_)
                      if i in set(present.tolist()) and not np.any(self.assignments_ == i)]
        if no_neurons:
            warnings.warn(
                f"classes {_show(no_neurons)} got no neuron in the label assignment and are "
                f"never predicted; use more neurons (n_neurons={self.n_neurons}) or more "
                f"training", LabelWarning, stacklevel=4)

    def decision_function(self, X) -> np.ndarray:
        """Mean spike count of the neurons assigned to each class, (n_images, n_classes).

        Columns follow ``classes_``.
        """
        self._check_fitted(assigned=True)
        return class_scores(self.transform(X), self.assignments_, self.n_classes_)

    def predict(self, X) -> np.ndarray:
        """Predicted class of each image (values of ``classes_``).

        An image to which no assigned neuron answers (for example an all-black
        image, which makes no input spikes) scores 0 for every class and is
        predicted as ``classes_[0]``, the lowest label.
        """
        self._check_fitted(assigned=True)
        return self.predict_from_counts(self.transform(X))

    def predict_from_counts(self, counts: np.ndarray) -> np.ndarray:
        """Predicted classes from spike counts returned by :meth:`transform`."""
        self._check_fitted(assigned=True)
        index = predict_from_counts(counts, self.assignments_, self.n_classes_)
        return self.classes_[index]

    def score(self, X, y, sample_weight=None) -> float:
        """Fraction of images classified correctly (labels outside ``classes_`` count as wrong)."""
        from sklearn.metrics import accuracy_score

        y = self._check_y(y, len(_as_array(X)))
        predicted = self.predict(X)
        try:
            return float(accuracy_score(y, predicted, sample_weight=sample_weight))
        except (TypeError, ValueError) as err:
            raise ConfigError(
                f"labels y ({y.dtype}) cannot be compared with the classes the network was "
                f"trained with ({self.classes_.dtype}): {err}") from None

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
            arrays["classes"] = self.classes_
            if self.classes_.dtype == object:
                raise ConfigError("class labels of mixed Python types cannot be saved without "
                                  "pickle; use integer or string labels")
        # atomic: a crash or a full disk leaves the old file or none, never half of one
        write_npz(path, compressed=True, header=np.array(json.dumps(header)), **arrays)
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
            raise ModelFileError(f"no saved network at {path}; check the path")
        try:
            with np.load(path, allow_pickle=False) as f:
                header = json.loads(str(f["header"]))
                arrays = {k: np.array(f[k]) for k in f.files if k != "header"}
        except Exception as err:  # noqa: BLE001
            if isinstance(err, ValueError) and "pickled" in str(err):
                raise ModelFileError(
                    f"{path} is not a readable brainsim network file: it holds pickled Python "
                    f"objects, which are never loaded (unpickling can run any code); write "
                    f"networks with DiehlCookSNN.save") from None
            raise ModelFileError(
                f"{path} is not a readable brainsim network file ({type(err).__name__}: {err}); "
                f"it is damaged or truncated: save the network again"
            ) from None
        if not isinstance(header, dict) or header.get("format") != FILE_FORMAT:
            raise ModelFileError(f"{path} is not a brainsim Diehl & Cook network file")
        version = header.get("format_version")
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise ModelFileError(f"{path}: the header has no valid format_version ({version!r}); "
                                 "the file is damaged")
        if version > FILE_FORMAT_VERSION:
            raise ModelFileError(
                f"{path} was written by a newer brainsim (format {version}, this one reads "
                f"up to {FILE_FORMAT_VERSION}); upgrade brainsim to read it"
            )
        missing = [k for k in ("params", "image_shape") if k not in header]
        if missing:
            raise ModelFileError(f"{path}: the header lacks {', '.join(missing)}; the file is "
                                 "damaged or was not written by DiehlCookSNN.save")
        params = header["params"]
        try:
            snn = cls(**{k: v for k, v in params.items() if k in cls._PARAM_NAMES})
            snn._validate_params()
            n_in = int(np.prod(header["image_shape"]))
        except (BrainsimError, TypeError, ValueError, AttributeError) as err:
            raise ModelFileError(f"{path}: the saved parameters are not valid ({err}); the file "
                                 "is damaged") from None
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
            if "classes" in arrays:  # format 2
                snn.classes_ = arrays["classes"]
            else:  # format 1: labels were 0..n_classes-1
                snn.classes_ = np.arange(int(header.get("n_classes")
                                             or snn.assignments_.max() + 1))
            snn.n_classes_ = len(snn.classes_)
            if snn.assignments_.size and snn.assignments_.max() >= snn.n_classes_:
                raise ModelFileError(f"{path}: assignments name classes that the file does "
                                     "not list; the file is damaged")
        snn.saved_versions_ = header.get("versions", {})
        return snn


# ------------------------------------------------------------ input checks
def _as_array(X) -> np.ndarray:
    """``X`` as a numpy array, or a one-line error for what numpy cannot make one of."""
    if hasattr(X, "toarray") or type(X).__module__.startswith("scipy.sparse"):
        raise ConfigError("sparse matrices are not supported; pass a dense array (X.toarray())")
    try:
        return np.asarray(X)
    except (ValueError, TypeError) as err:
        raise ConfigError(
            f"images must be a rectangular numeric array (n, height, width) or (n, n_pixels); "
            f"numpy could not make one ({err})") from None


def _check_images(X) -> np.ndarray:
    """Check images and return them flattened, (n, n_pixels), in their own dtype.

    Read-only and non-contiguous arrays are accepted as they are (never written to).

    Raises
    ------
    ConfigError
        Empty, wrong dtype or number of dimensions, no pixels, NaN or inf,
        values outside 0..255, or values in 0..1 (images scaled to 0..1).
    """
    X = _as_array(X)
    if X.dtype == object:
        try:
            X = X.astype(np.float64)
        except (TypeError, ValueError):
            raise ConfigError("images must hold numbers 0..255; got an object array with "
                              "non-numeric values") from None
    if X.dtype == bool:
        raise ConfigError("images must hold intensities 0..255, not booleans; convert them "
                          "with X.astype(np.uint8) * 255")
    if not np.issubdtype(X.dtype, np.number):
        raise ConfigError(f"images must hold numbers 0..255, got dtype {X.dtype}; convert "
                          f"them to numbers (e.g. X.astype(np.uint8))")
    if np.issubdtype(X.dtype, np.complexfloating):
        raise ConfigError(f"Complex data not supported: images must hold real numbers 0..255, "
                          f"got dtype {X.dtype}")
    if X.ndim in (2, 3) and X.shape[0] > 0 and X[0].size == 0:
        raise ConfigError(f"images have no pixels: 0 feature(s) (shape={X.shape}) while a "
                          f"minimum of 1 is required. Give images with pixels")
    if np.issubdtype(X.dtype, np.floating) and X.size and not np.isfinite(X).all():
        bad = int(np.flatnonzero(~np.isfinite(X.reshape(len(X), -1)).all(axis=1))[0])
        raise ConfigError(f"images contain NaN or infinite values (the first in image {bad}); "
                          f"replace them (e.g. np.nan_to_num(X)) or drop those images")
    if X.size and X.min() < 0:
        raise ConfigError(
            f"Negative values in data: pixel intensities must lie in 0..255 (smallest "
            f"{float(X.min()):g}); shift and rescale the images, e.g. "
            f"(X - X.min()) * 255 / (X.max() - X.min())")
    flat = flatten_images(X)
    hi = float(flat.max())
    if 0 < hi <= 1 and np.issubdtype(flat.dtype, np.floating):
        raise ConfigError(
            f"pixel values lie in 0..1 (largest {hi:g}), but the network takes intensities "
            f"0..255 (pixel / 4 Hz); multiply the images by 255 (X * 255)")
    return flat


def _check_labels(y, n: int) -> np.ndarray:
    """Labels as a 1-D array of ``n`` values, or a one-line error."""
    if y is None:
        raise ConfigError("DiehlCookSNN requires y to be passed, but the target y is None: the "
                          "network learns without labels but needs them to label its neurons "
                          "(partial_fit(X) learns without them)")
    if hasattr(y, "toarray"):
        raise ConfigError("labels y must be a dense 1-D array, not a sparse matrix")
    y = np.asarray(y)
    if y.ndim != 1:
        raise ConfigError(f"labels y must be a 1-D array, got shape {y.shape}"
                          + ("; pass y.ravel()" if y.ndim == 2 and y.shape[1] == 1 else ""))
    if len(y) != n:
        raise ConfigError(f"y has {len(y)} labels but X has {n} images; give one label per image")
    if n == 0:
        raise ConfigError("no labels given (y has length 0)")
    if np.issubdtype(y.dtype, np.floating) and not np.all(np.isfinite(y)):
        raise ConfigError("labels y contain NaN or infinite values")
    if np.issubdtype(y.dtype, np.complexfloating):
        raise ConfigError(f"Complex data not supported: labels y must be integers, strings or "
                          f"other sortable values, got dtype {y.dtype}")
    if np.issubdtype(y.dtype, np.floating) and np.any(y != np.round(y)):
        raise ConfigError(
            f"Unknown label type: continuous (labels y are real numbers such as "
            f"{y[y != np.round(y)][0]:g}); give class labels (integers or strings)")
    return y


def _classes_of(y: np.ndarray) -> np.ndarray:
    """Sorted distinct labels; at least two."""
    try:
        classes = np.unique(y)
    except TypeError:
        raise ConfigError("labels y mix types that cannot be sorted (e.g. numbers and "
                          "strings); use one type") from None
    if len(classes) < 2:
        raise ConfigError(
            f"y holds only one class ({_show(list(classes))}); the label assignment needs at "
            f"least two classes")
    if classes.dtype == object:  # e.g. Python strings from pandas: store as numpy strings
        as_array = np.asarray(classes.tolist())
        if as_array.dtype != object:
            classes = as_array
    return classes


def _show(values: list) -> str:
    shown = ", ".join(repr(v.item() if hasattr(v, "item") else v) for v in values[:10])
    return shown + (", ..." if len(values) > 10 else "")
