"""Training: strategies (``tf.distribute``), the training loop, checkpoints, and recipes.

The modules, one job each: ``strategies`` (which strategy, the distributed dataset and
custom step), ``loop`` (``train``), ``portable`` (``fit`` with checkpoints; JAX and
PyTorch), ``checkpoints`` (resume after a kill), ``recipe`` (what a recipe declares, and
finding one) and ``runner`` (train, evaluate, write the preset folder).

Example:
    >>> from aezoo.training import train
    >>> result = train(lambda: aezoo.build("dense-ae", input_shape=(784,)), x, epochs=5)
"""

from aezoo.training.checkpoints import (load_checkpoint_weights, logged_final_loss, logged_seconds, restore_checkpoint,
                                       save_checkpoint)
from aezoo.training.loop import train
from aezoo.training.strategies import (STRATEGIES, TrainResult, as_dataset, cluster_spec_from_env, is_chief,
                                       make_distributed_step, resolve_strategy)

__all__ = [
    "STRATEGIES", "TrainResult", "as_dataset", "cluster_spec_from_env", "is_chief", "load_checkpoint_weights",
    "logged_final_loss", "logged_seconds",
    "make_distributed_step", "resolve_strategy", "restore_checkpoint", "save_checkpoint", "train",
]
