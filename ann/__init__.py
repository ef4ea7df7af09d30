"""Artificial neural networks (scikit-learn) for comparison with brainsim."""
