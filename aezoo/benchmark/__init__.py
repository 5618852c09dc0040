"""Benchmarks: scripts with a documented command, not timed tests.

``python -m aezoo.benchmark training`` compares training throughput with plain Keras;
``python -m aezoo.benchmark inference`` times import, encode and reconstruct on each
installed Keras backend. Numbers depend on the machine; README records ours.
"""
