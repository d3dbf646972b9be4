#!/usr/bin/env bash
# Install what synth needs on a fresh Debian/Ubuntu machine: the system libraries headless
# Blender and FFmpeg need (apt, as root) and a .venv with the project. Safe to rerun.
#   --infinigen  also .venv-infinigen: Infinigen 1.15.5 with its Blender (bpy 4.2.0), for
#                `synth run --assets infinigen` (synth/backends/procedural/infinigen.py)
#   --test       what the test suite needs too (implies --infinigen), with .venv-oracles: the
#                field's own packages the tests check synth against (infra/oracles-requirements.txt)
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES="libx11-6 libxrender1 libxfixes3 libxi6 libxkbcommon0 libsm6 libgl1 libegl1 ffmpeg"
# only the test suite needs these (a real browser checks the Prefect UI): `bootstrap.sh --test`
TEST_APT_PACKAGES="chromium"
TEST=0
INFINIGEN=0
for arg in "$@"; do
  case "$arg" in
    --test) TEST=1 INFINIGEN=1 ;;
    --infinigen) INFINIGEN=1 ;;
    *) echo "bootstrap: unknown option $arg (--test, --infinigen)" >&2; exit 2 ;;
  esac
done
[ "$TEST" = 1 ] && APT_PACKAGES="$APT_PACKAGES $TEST_APT_PACKAGES"
PY="${PYTHON:-$(command -v python3.11 || command -v python3 || true)}"
if [ -z "$PY" ] || ! "$PY" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
  echo "bootstrap: synth needs Python 3.11 (set PYTHON=/path/to/python3.11)" >&2
  exit 1
fi

missing=""
for p in $APT_PACKAGES; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if ! "$PY" -c 'import ensurepip, venv' >/dev/null 2>&1; then missing="$missing python3.11-venv"; fi
if [ -n "$missing" ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "bootstrap: missing system packages:$missing (run as root or install them with apt-get)" >&2
    exit 1
  fi
  echo "bootstrap: apt-get install$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

[ -x .venv/bin/python ] || "$PY" -m venv .venv
echo "bootstrap: pip install -e '.[dev]' into .venv"
.venv/bin/python -m pip install -q -e '.[dev]'
.venv/bin/python -c 'import bpy, av, datasets, torchcodec'
if [ "$INFINIGEN" = 1 ]; then
  echo "bootstrap: Infinigen 1.15.5 into .venv-infinigen"
  [ -x .venv-infinigen/bin/python ] || "$PY" -m venv .venv-infinigen
  .venv-infinigen/bin/python -m pip install -q -r infra/infinigen-requirements.txt
  .venv-infinigen/bin/python -m pip install -q --no-deps infinigen==1.15.5
  BLENDER_USER_RESOURCES="$(mktemp -d)" .venv-infinigen/bin/python -c 'import bpy, infinigen.assets.objects.seating' 2>/dev/null
fi
if [ "$TEST" = 1 ]; then
  # the field's own code as test oracles (tests/field): their pins conflict with synth's, so a venv of their own
  echo "bootstrap: the field's tools (LLaMA-Factory, qwen-vl-utils, lmms-eval) into .venv-oracles"
  [ -x .venv-oracles/bin/python ] || "$PY" -m venv .venv-oracles
  .venv-oracles/bin/python -m pip install -q -r infra/oracles-requirements.txt
  .venv-oracles/bin/python -m pip install -q --no-deps lmms-eval==0.7.3  # only its vsibench scoring is used
  # the small models the LLM-compiler tests run (pinned and sha256-checked in infra/llm_model.py)
  .venv/bin/python infra/llm_model.py && .venv/bin/python infra/llm_model.py gemma3-270m
fi
