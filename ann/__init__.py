"""Artificial neural networks (scikit-learn) for comparison with brainsim.

``ann.models``: the article's 784-32-10 network, the size-matched MLP, logistic
regression and hidden-layer activations. ``ann.competitive``: the unsupervised
counterpart of STDP with winner-take-all. Nothing here imports Brian2.
"""
