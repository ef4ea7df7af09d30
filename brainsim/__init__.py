"""brainsim: a spiking network (Diehl & Cook 2015) and ANNs side by side."""

__version__ = "0.1.0"
