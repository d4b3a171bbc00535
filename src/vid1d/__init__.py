"""vid1d: compact 1D-latent video representations.

Learned video codecs (GVC1D, GIViC), a 1D video tokenizer (One-DVA) and
generators over compressed tokens (VRC), on one shared platform: video I/O,
metrics, entropy coding, a checked bitstream container and classic-codec anchors.
"""

from vid1d.errors import BitstreamError, InputError, Vid1dError

__version__ = "0.1.0"

__all__ = ["BitstreamError", "InputError", "Vid1dError", "__version__"]
