"""Classic-codec anchors (x264, x265, VVenC, SVT-AV1, libaom) through the imageio-ffmpeg binary.

- :data:`CODECS`, :func:`get_codec` -- the encoders and their settings per configuration
- :func:`run_baseline`, :func:`run_baselines` -- RD curves as ``vid1d.rd/1`` dicts
  (write them with :func:`vid1d.eval.rd.write_rd`)
- :func:`prepare_source` -- the shared 8-bit 4:2:0 Y4M every encoder reads
"""

from vid1d.baselines.codecs import CODECS, CONFIGS, Codec, GopConfig, encoder_version, get_codec
from vid1d.baselines.run import BaselineSpec, run_baseline, run_baselines
from vid1d.baselines.source import PreparedSource, prepare_source

__all__ = [
    "CODECS",
    "CONFIGS",
    "BaselineSpec",
    "Codec",
    "GopConfig",
    "PreparedSource",
    "encoder_version",
    "get_codec",
    "prepare_source",
    "run_baseline",
    "run_baselines",
]
