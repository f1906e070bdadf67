"""Training and its data (needs the ``train`` extra: ``pip install unswap[train]``)."""
