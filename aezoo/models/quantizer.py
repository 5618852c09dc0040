"""The vector quantiser of ``vq-vae``: nearest-code lookup, straight-through gradients,
codebook and commitment losses, EMA codebook updates and dead-code restarts.

``ema=True`` replaces the first term by exponential moving averages (decay ``ema_decay``,
0.99 by default): per code, a moving count N_k and a moving sum m_k of the encoder
vectors assigned to it, and the code set to m_k / N_k. Both averages start at zero and
decay alike, so the ratio needs no bias correction; a code never assigned keeps its
value. The codebook is then a non-trainable variable updated in the layer's ``call``
during training only.

Dead-code restarts (``restart_after`` = R > 0): the layer counts, per code, the training
steps since a vector of the batch was last assigned to it. When that count reaches R,
the code is re-initialised to an encoder vector drawn uniformly at random from the
current batch (the most recent encoder outputs), its count restarts at zero and, with
EMA, its moving count and sum are cleared so the new value stands until it is used.
``restart_after=0`` turns restarts off. Without EMA the codebook is trained by the
optimizer, so a restart writes a non-trainable offset (``restart_shift``) and the codes
in use are ``codebook + restart_shift``: only non-trainable state is assigned in
``call``, which is what every backend's trainer (JAX's stateless one included) keeps.

Under ``tf.distribute`` the state variables say how replicas' writes combine: the batch
histogram sums over replicas (so usage, restarts and metrics see the global batch), the
moving count and sum average (their ratio is the global mean), and the codebook and
restart state take the first replica's write, so every replica keeps the same codes.
"""

import keras
from keras import ops

# an EMA count at or below this counts as "never assigned": the code keeps its value (far
# below it, float32 denormals would make m / N inexact)
_TINY_COUNT = 1e-30


def nearest_code(vectors, codebook):
    """Index of the nearest codebook row (squared Euclidean) for each row of ``vectors``.

    ``vectors`` is ``(n, D)``, ``codebook`` ``(K, D)``; returns int32 ``(n,)``; ties go to
    the lower index.
    """
    distances = (ops.sum(ops.square(vectors), axis=1, keepdims=True)
                 - 2.0 * ops.matmul(vectors, ops.transpose(codebook))
                 + ops.sum(ops.square(codebook), axis=1)[None, :])
    return ops.cast(ops.argmin(distances, axis=1), "int32")


def codebook_usage_and_perplexity(counts):
    """(fraction of codes used, perplexity) of a histogram of code assignments.

    Perplexity is exp(-sum_k p_k log p_k) with p = counts / sum(counts): K when the K
    codes are used equally often, 1 when one code takes every vector.
    """
    counts = ops.cast(ops.convert_to_tensor(counts), "float32")
    p = counts / ops.maximum(ops.sum(counts), 1.0)
    entropy = -ops.sum(ops.where(p > 0, p * ops.log(ops.maximum(p, 1e-30)), 0.0))
    usage = ops.mean(ops.cast(counts > 0, "float32"))
    return usage, ops.exp(entropy)


@keras.saving.register_keras_serializable(package="aezoo")
class VectorQuantizer(keras.layers.Layer):
    """Nearest-code quantisation of the last axis, with the VQ-VAE losses and codebook upkeep.

    Input ``(..., D)``; outputs ``(quantised, indices)``: the input with each vector
    replaced by its nearest code (straight-through gradient), same shape, and the int32
    code indices, shape ``(...)``. See the module docstring for the losses, the EMA update
    and the dead-code rule.

    Args:
        num_embeddings: K, the number of codes.
        embedding_dim: D, the size of each code.
        commitment_cost: beta, weight of the commitment term.
        ema: update the codebook by exponential moving averages instead of gradients.
        ema_decay: decay of those averages.
        restart_after: restart a code unused for this many training steps (0: never).
        seed: seed of the codebook initialiser and the restart draws.
    """

    def __init__(self, num_embeddings, embedding_dim, commitment_cost=0.25, ema=False, ema_decay=0.99,
                 restart_after=100, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.num_embeddings, self.embedding_dim = int(num_embeddings), int(embedding_dim)
        self.commitment_cost, self.ema, self.ema_decay = float(commitment_cost), bool(ema), float(ema_decay)
        self.restart_after, self.seed = int(restart_after), seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, input_shape):
        if input_shape[-1] != self.embedding_dim:
            raise ValueError(f"{self.name}: inputs have {input_shape[-1]} channels, the codes {self.embedding_dim}")
        k, d = self.num_embeddings, self.embedding_dim

        def state(name, shape, aggregation, initializer="zeros"):
            # non-trainable state assigned in call(); under tf.distribute the aggregation
            # says how replicas' writes combine (counts sum, averages average)
            return self.add_weight(name=name, shape=shape, initializer=initializer, trainable=False,
                                   autocast=False, aggregation=aggregation)

        init = keras.initializers.RandomUniform(-1.0 / k, 1.0 / k, seed=self.seed)
        if self.ema:
            self.codebook = state("codebook", (k, d), "only_first_replica", init)
            self.ema_count = state("ema_count", (k,), "mean")
            self.ema_sum = state("ema_sum", (k, d), "mean")
        else:
            self.codebook = self.add_weight(name="codebook", shape=(k, d), initializer=init, autocast=False)
            self.restart_shift = state("restart_shift", (k, d), "only_first_replica")
        self.steps_unused = state("steps_unused", (k,), "only_first_replica")
        self.last_counts = state("last_counts", (k,), "sum")  # code histogram of the latest batch
        self.built = True

    @property
    def embeddings(self):
        """The codes in use, ``(K, D)`` (tensor)."""
        codebook = ops.convert_to_tensor(self.codebook)
        return codebook if self.ema else codebook + ops.convert_to_tensor(self.restart_shift)

    def call(self, z, training=None):
        compute_dtype = z.dtype
        flat = ops.reshape(ops.cast(z, "float32"), (-1, self.embedding_dim))
        codebook = ops.stop_gradient(self.embeddings)  # the codes of this step, before any update
        indices = nearest_code(ops.stop_gradient(flat), codebook)
        quantised = ops.take(codebook, indices, axis=0)
        if not self.ema:
            shift_rows = ops.take(ops.convert_to_tensor(self.restart_shift), indices, axis=0)

        one_hot = ops.one_hot(indices, self.num_embeddings, dtype="float32")
        self.last_counts.assign(ops.sum(one_hot, axis=0))
        if training:
            self._update_codebook(ops.stop_gradient(flat), one_hot, codebook)

        # losses: commitment always; the codebook term only when the codebook learns by gradient.
        # The trainable codebook is read after the state updates: under tf.distribute an
        # aggregated assign is a merge_call, and a variable read before it gets no gradient.
        loss = self.commitment_cost * ops.mean(ops.square(flat - quantised))
        if not self.ema:
            codes = ops.take(ops.convert_to_tensor(self.codebook), indices, axis=0) + shift_rows
            loss = loss + ops.mean(ops.square(ops.stop_gradient(flat) - codes))
        self.add_loss(loss)

        # straight-through: the value of z_q (exactly: z_e - sg[z_e] is 0), the gradient of z_e
        straight_through = quantised + (flat - ops.stop_gradient(flat))
        out = ops.cast(ops.reshape(straight_through, ops.shape(z)), compute_dtype)
        return out, ops.reshape(indices, ops.shape(z)[:-1])

    def _update_codebook(self, flat, one_hot, codebook):
        """EMA step and dead-code restarts (training only; non-trainable state only)."""
        counts = ops.convert_to_tensor(self.last_counts)  # read back: the whole (global) batch's histogram
        unused = ops.where(counts > 0, 0.0, ops.convert_to_tensor(self.steps_unused) + 1.0)
        if self.restart_after > 0:
            dead = unused >= float(self.restart_after)
        else:
            dead = ops.zeros_like(unused, dtype="bool")
        dead_rows = dead[:, None]

        if self.restart_after > 0:
            # one candidate per code: an encoder vector of this batch, uniformly at random
            n = ops.shape(flat)[0]
            u = keras.random.uniform((self.num_embeddings,), seed=self.seed_generator)
            picks = ops.minimum(ops.cast(ops.floor(u * ops.cast(n, "float32")), "int32"), n - 1)
            candidates = ops.take(flat, picks, axis=0)
        else:
            candidates = codebook

        if self.ema:
            decay = self.ema_decay
            sums = ops.matmul(ops.transpose(one_hot), flat)
            new_count = decay * ops.convert_to_tensor(self.ema_count) + (1.0 - decay) * ops.sum(one_hot, axis=0)
            new_sum = decay * ops.convert_to_tensor(self.ema_sum) + (1.0 - decay) * sums
            self.ema_count.assign(ops.where(dead, 0.0, new_count))
            self.ema_sum.assign(ops.where(dead_rows, 0.0, new_sum))
            count, total = ops.convert_to_tensor(self.ema_count), ops.convert_to_tensor(self.ema_sum)
            seen = (count > _TINY_COUNT)[:, None]
            updated = ops.where(seen, total / ops.maximum(count, _TINY_COUNT)[:, None], codebook)
            self.codebook.assign(ops.where(dead_rows, candidates, updated))
        elif self.restart_after > 0:
            # the codes in use are codebook + shift; a restart moves them to the candidate
            param = ops.convert_to_tensor(self.codebook)
            self.restart_shift.assign(ops.where(dead_rows, candidates - param,
                                                ops.convert_to_tensor(self.restart_shift)))
        self.steps_unused.assign(ops.where(dead, 0.0, unused))

    def compute_output_spec(self, z, training=None):
        return keras.KerasTensor(z.shape, dtype=z.dtype), keras.KerasTensor(z.shape[:-1], dtype="int32")

    def get_config(self):
        return {**super().get_config(), "num_embeddings": self.num_embeddings,
                "embedding_dim": self.embedding_dim, "commitment_cost": self.commitment_cost, "ema": self.ema,
                "ema_decay": self.ema_decay, "restart_after": self.restart_after, "seed": self.seed}
