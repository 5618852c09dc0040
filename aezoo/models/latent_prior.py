"""A full-covariance Gaussian fitted to a trained model's codes: a prior to sample from.

A VAE is trained to make its aggregate posterior match N(0, I), but it rarely does:
with a learned observation scale (sigma-VAE) the codes of real faces fill a smaller,
correlated region, and most N(0, I) draws decode to blurs that are not faces. Fitting a
Gaussian to the posterior means of the training data after training ("ex-post density
estimation", Ghosh et al. 2020, *From variational to deterministic autoencoders*, §4)
and sampling from it instead gives faces. The fit is numpy, kept beside the weights
(``latent_prior.npz`` in a preset folder), so it works on every backend.
"""

import os
import tempfile
from pathlib import Path

import numpy as np

#: added to the covariance's diagonal, relative to its mean variance, so the Cholesky
#: factor exists when there are fewer codes than dimensions or a dimension is unused
RIDGE = 1e-4


class GaussianLatentPrior:
    """N(mean, L L^T) over codes; ``fit`` it to codes, ``sample`` it, score codes with ``log_density``."""

    def __init__(self, mean, scale_tril, examples=None):
        # held at float32 precision, as saved: a loaded prior samples exactly as the fitted one
        mean = np.asarray(mean, dtype="float32").astype("float64")
        scale_tril = np.asarray(scale_tril, dtype="float32").astype("float64")
        if mean.ndim != 1 or scale_tril.shape != (mean.size, mean.size):
            raise ValueError(f"a latent prior needs mean (d,) and scale_tril (d, d), got {mean.shape} and "
                             f"{scale_tril.shape}")
        if not np.allclose(scale_tril, np.tril(scale_tril)) or np.any(np.diag(scale_tril) <= 0):
            raise ValueError("scale_tril must be lower triangular with a positive diagonal (a Cholesky factor)")
        self.mean, self.scale_tril = mean, scale_tril
        self.examples = None if examples is None else int(examples)

    @property
    def latent_dim(self):
        return self.mean.size

    @classmethod
    def fit(cls, codes):
        """Maximum-likelihood mean and covariance of ``codes`` (n, d), with a small ridge."""
        codes = np.asarray(codes, dtype="float64")
        if codes.ndim != 2 or len(codes) < 2:
            raise ValueError(f"fitting a latent prior needs codes of shape (n >= 2, latent_dim), got {codes.shape}")
        if not np.all(np.isfinite(codes)):
            raise ValueError("fitting a latent prior: the codes contain NaN or infinite values")
        mean = codes.mean(axis=0)
        cov = np.cov(codes, rowvar=False, bias=True).reshape(mean.size, mean.size)
        cov += RIDGE * max(float(np.mean(np.diag(cov))), 1e-12) * np.eye(mean.size)
        return cls(mean, np.linalg.cholesky(cov), examples=len(codes))

    def sample(self, n, seed=None, temperature=1.0):
        """``n`` codes (float32): mean + temperature * L eps, eps ~ N(0, I)."""
        eps = np.random.default_rng(seed).standard_normal((n, self.latent_dim))
        return (self.mean + temperature * eps @ self.scale_tril.T).astype("float32")

    def log_density(self, z):
        """log N(z; mean, L L^T) per code (float64): a latent-density score (low = unusual)."""
        z = np.asarray(z, dtype="float64")
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"codes must have shape (n, {self.latent_dim}), got {z.shape}")
        white = np.linalg.solve(self.scale_tril, (z - self.mean).T).T
        log_det = 2.0 * np.sum(np.log(np.diag(self.scale_tril)))
        return -0.5 * (np.sum(white**2, axis=1) + log_det + self.latent_dim * np.log(2 * np.pi))

    # ----------------------------------------------------------- persistence
    def save(self, path):
        """Write ``mean``/``scale_tril`` to an .npz, atomically (temp file, then rename)."""
        path = Path(path)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(f, mean=self.mean.astype("float32"), scale_tril=self.scale_tril.astype("float32"),
                         examples=np.int64(-1 if self.examples is None else self.examples))
            os.chmod(tmp, 0o644)  # mkstemp makes it private; a preset file is for every reader
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    @classmethod
    def load(cls, path):
        with np.load(path, allow_pickle=False) as f:
            examples = int(f["examples"]) if "examples" in f else -1
            return cls(f["mean"], f["scale_tril"], examples=None if examples < 0 else examples)

    def __repr__(self):
        return f"GaussianLatentPrior(latent_dim={self.latent_dim}, examples={self.examples})"
