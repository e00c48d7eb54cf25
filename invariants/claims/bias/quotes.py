"""The seed's sentences about bias initialization that several bias claims quote."""
from __future__ import annotations

QUOTE_BIAS_ZERO = ("It is possible and common to initialize the biases to be zero, since the asymmetry breaking is "
                   "provided by the small random numbers in the weights.")
QUOTE_BIAS_NO_EFFECT = ("An important thing to keep in mind is that biases have no effect what so ever when initialized "
                        "with 0.")
