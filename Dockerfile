# syntax=docker/dockerfile:1.7
#
# The triage serving image: python:3.11-slim + onnxruntime, no torch, non-root, with a built
# model directory at /models/default.
#
#   docker build -t triage .                              # trains the default model from
#                                                         # data/samples: 9-45 min on 2
#                                                         # idle cores by CPU, longer on busy ones
#   docker build -t triage --build-arg MODEL=context .    # uses ./models/default instead
#   docker run -p 8000:8000 -v triage-data:/var/lib/triage triage
#
# Stages: `wheel` builds the triage wheel; `trainer` adds the train extra (torch 2.13.0 CPU
# from the PyTorch CPU index) and builds the model; `model-context` takes a provided one;
# `model` keeps only what serving loads (model.onnx, tokenizer, manifest, report: not the
# 91 MB fp32 ONNX, the Hugging Face checkpoint or the training checkpoints); the final stage
# installs only the wheel and copies that model.

ARG PYTHON_IMAGE=python:3.11-slim
ARG MODEL=build

# --- the triage wheel (no torch) ----------------------------------------------------------
FROM ${PYTHON_IMAGE} AS wheel
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY triage ./triage
COPY training ./training
RUN pip wheel --no-deps --wheel-dir /wheels .

# --- the model, trained from data/samples ----------------------------------------------------
FROM ${PYTHON_IMAGE} AS trainer
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONUNBUFFERED=1 \
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TRIAGE_MODEL_DIR=/models/default
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0
COPY --from=wheel /wheels /wheels
RUN pip install "$(ls /wheels/triage-*.whl)[train]"
WORKDIR /src
COPY data ./data
# the same build as a first start (triage.models.default: our three heads, two epochs)
RUN mkdir -p /models && python -c "from pathlib import Path; \
from triage.models.default import build_default; \
build_default(Path('data/samples'), Path('/models/default'), print)"

FROM trainer AS model-build

# --- or the model directory given in the build context (./models/default) -------------------
FROM scratch AS model-context
COPY models/default /models/default

FROM model-${MODEL} AS model-chosen

# --- only the files serving loads ------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS model
COPY --from=model-chosen /models/default /models/default
RUN rm -rf /models/default/model-fp32.onnx /models/default/hf /models/default/checkpoints

# --- the serving image ------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS serve
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
COPY --from=wheel /wheels /wheels
RUN pip install /wheels/triage-*.whl && rm -rf /wheels \
    && python -c "import importlib.util as u, sys; sys.exit(u.find_spec('torch') is not None)" \
    && useradd --system --uid 10001 --user-group --home-dir /var/lib/triage --create-home \
       triage
COPY --from=model /models/default /models/default
RUN python -c "from triage.models.manifest import load_manifest; \
print('model', load_manifest('/models/default').version)"

ENV TRIAGE_HOME=/var/lib/triage \
    TRIAGE_MODEL_DIR=/models/default \
    TRIAGE_HOST=0.0.0.0 \
    TRIAGE_PORT=8000 \
    TRIAGE_WORKERS=1
USER triage
WORKDIR /var/lib/triage
VOLUME ["/var/lib/triage"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('TRIAGE_PORT', '8000'), timeout=4)"]
CMD ["triage", "serve"]
