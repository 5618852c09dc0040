"""Bjøntegaard-delta rate (G. Bjøntegaard, VCEG-M33, 2001): the average rate difference of
two codecs at equal quality.

Each codec's rate-distortion points give log(rate) as a cubic polynomial of PSNR (least
squares); both polynomials are integrated over the PSNR range the two curves share, and
the mean difference of log rates, exponentiated, is the rate ratio. Negative: the test
codec needs that many percent fewer bits than the anchor for the same PSNR.
"""

import numpy as np


def bd_rate(anchor_rates, anchor_psnr, test_rates, test_psnr):
    """Percent rate change of ``test`` against ``anchor`` at equal PSNR (at least 4 points each)."""
    curves = []
    for rates, psnr in ((anchor_rates, anchor_psnr), (test_rates, test_psnr)):
        rates, psnr = np.asarray(rates, np.float64), np.asarray(psnr, np.float64)
        if rates.shape != psnr.shape or rates.ndim != 1 or len(rates) < 4:
            raise ValueError(f"bd_rate needs at least 4 (rate, PSNR) points per codec, got {rates.shape} and "
                             f"{psnr.shape}")
        if (rates <= 0).any() or not np.isfinite(rates).all() or not np.isfinite(psnr).all():
            raise ValueError("bd_rate needs positive finite rates and finite PSNRs")
        curves.append((np.polyfit(psnr, np.log(rates), 3), psnr.min(), psnr.max()))
    low, high = max(c[1] for c in curves), min(c[2] for c in curves)
    if not high > low:
        raise ValueError(f"the two rate-distortion curves share no PSNR range ({curves[0][1]:.2f}-{curves[0][2]:.2f} "
                         f"vs {curves[1][1]:.2f}-{curves[1][2]:.2f} dB): no Bjøntegaard delta")
    integrals = [np.diff(np.polyval(np.polyint(poly), [low, high]))[0] for poly, _, _ in curves]
    mean_log_ratio = (integrals[1] - integrals[0]) / (high - low)
    return float((np.exp(mean_log_ratio) - 1.0) * 100.0)
