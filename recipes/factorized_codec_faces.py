"""factorized-codec-faces-q{1,3,5,7}: factorized-prior codecs on 64x64 CelebA faces, one per rate.

A family (``RECIPES``, declared in ``aezoo.training.codec_recipes``); train one with
``aezoo train factorized-codec-faces-q3``.
"""

from aezoo.training.codec_recipes import faces_codec_family

RECIPES = faces_codec_family("factorized-codec", "Factorized-prior codec (Ballé et al. 2017)", "FactorizedPrior")
