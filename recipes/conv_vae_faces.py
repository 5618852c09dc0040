"""conv-vae-faces: a 64x64 RGB convolutional VAE on the CelebA 10k subset."""

from aezoo.training.recipe import Recipe, Target

RECIPE = Recipe(
    preset="conv-vae-faces",  # the model (architecture, config, dataset): aezoo/presets/catalog.py
    epochs=60,
    flip_augment=True,
    fit_latent_prior=True,
    sample_eval=True,
    warmup_epochs=1,
    batch_size=64,
    learning_rate=1e-3,
    description="Conv VAE on 64x64 CelebA faces (first 10k aligned images, 9k train / 1k test).",
    notes=("Gaussian likelihood with one learned observation scale (sigma-VAE, Rybkin et al. 2021) instead of "
           "a Bernoulli on grey levels; every training face mirrored left to right with probability 1/2. Tried: 15 "
           "epochs with a Bernoulli likelihood, mse_vs_pca 1.65; 60 epochs of this sigma-VAE without flips, 1.012; "
           "100 epochs, 1.046: the training loss kept falling (-15,802 -> -16,908) while "
           "the test ELBO fell from 13,025 to 11,899 nats, so 9,000 faces are overfitted after about 60 epochs, "
           "hence flips rather than more epochs (0.907 with them). Samples come from a full-covariance "
           "Gaussian fitted to the training codes (ex-post density estimation, Ghosh et al. 2020): N(0, I) draws "
           "decode mostly to non-faces (sample_fd_standard against sample_fd_fitted; train_test_fd is the "
           "distance between real training and test faces). CelebA is for non-commercial research only: so are "
           "these weights."),
    targets=(Target("mse_vs_pca", 1.0, 0.0, anchor="PCA with 128 components on the same training faces"),),
    demo_inputs="faces",
    attribute_vectors=("Smiling", "Male", "Young", "Eyeglasses", "Blond_Hair", "Mustache"),
)
