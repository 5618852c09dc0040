"""What autoencoders are for, on top of any model: ``latent`` (attribute vectors,
anomaly scores, compression, features), ``plots`` (figures), ``finetune`` (adapt a
preset to your images) and ``export`` (SavedModel / TFLite for serving)."""
