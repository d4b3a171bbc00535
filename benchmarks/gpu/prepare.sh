#!/bin/bash
# Here (with PyPI access), before a GPU lease: the git-ignored folders that
# benchmarks/gpu/session.sh needs on the GPU machine (see its header).
#
# usage: bash benchmarks/gpu/prepare.sh [RUN]   RUN: a run folder to start training from,
#        exported in fp16 to .gpu/init.{json,safetensors} (session.sh's default INIT).
#        To start from a bundled model, give none and run session.sh with INIT=<model id>:
#        its weights travel with the tracked files.
set -euo pipefail
INIT=${1:-}
FF=$(python -c 'import imageio_ffmpeg as f; print(f.get_ffmpeg_exe())')
grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo /.whl/ >> .git/info/exclude
grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo /.gpu/ >> .git/info/exclude
rm -rf .gpu .whl && mkdir -p .gpu/videos .whl
python -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_17_x86_64 -d .whl constriction==0.5.0
for f in ../shared/data/videos/*; do
  case "$f" in
    # OpenCV (the GPU machine's decoder) stops after 68 of tree.avi's frames in Cinepak;
    # PyAV gives the same 68 frames, and a lossless FFV1 copy of them decodes everywhere.
    *tree.avi) "$FF" -loglevel error -i "$f" -c:v ffv1 -level 3 -pix_fmt rgb24 .gpu/videos/tree.mkv ;;
    *) cp "$f" .gpu/videos/ ;;
  esac
done
"$FF" -loglevel error -i src/vid1d/assets/carphone_pristine.mp4 -frames:v 8 -pix_fmt yuv420p \
    .gpu/carphone8.y4m
if [ -n "$INIT" ]; then
  [ -d "$INIT" ] || { echo "prepare.sh: $INIT is not a run folder" >&2; exit 2; }
  vid1d export "$INIT" -o init --dir .gpu --dtype fp16
fi
du -sh .gpu .whl
total=$(( $(git ls-files -z | xargs -0 du -cb | tail -1 | cut -f1) + $(du -sb .gpu | cut -f1) \
  + $(du -sb .whl | cut -f1) ))
echo "tracked + carried: $((total / 1048576)) MiB of the 64 MiB a call carries"
[ $total -le $((64 * 1048576)) ] || { echo "prepare.sh: over the limit" >&2; exit 1; }
