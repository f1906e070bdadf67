"""unswap: find face-swapped faces in images and video."""

__version__ = "0.1.0"
