"""The steps between a training run and a shipped detector, each a command of
``python -m unswap.train`` (``python -m unswap.train STEP --help``):

- ``make-pack``: the faces a GPU run trains on, as one file, and its ImageNet start.
- ``half-checkpoints``: chosen epochs of a run as small weights-only checkpoints.
- ``weight-soup``: the mean of runs' weights that share a start, as one checkpoint.
- ``checkpoint-from-onnx``: a trainable checkpoint rebuilt from a shipped detector's graph.
- ``choose-cuts``: score runs file by file and set the verdict's cuts on stated error rates.
- ``derive-variant``: a shipped detector's weights with a test-time flip or another input size.
- ``set-verdict``: calibrate an exported detector and set its three-way verdict.

Each module keeps a ``main()`` that parses the command line, as it did when it was a script.
"""
