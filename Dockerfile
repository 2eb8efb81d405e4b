# syntax=docker/dockerfile:1
# homelab-agent: llama-cpp-python compiled for CUDA (default) or for the CPU, on a slim runtime image.
#
#   docker build -t homelab-agent .                                   # CUDA build
#   docker build -t homelab-agent:cpu --build-arg VARIANT=cpu --build-arg BUILD_IMAGE=ubuntu:24.04 .
#
# Stage 1 (build) compiles the llama-cpp-python wheel and wheels the app; stage 2 (runtime) installs
# only the wheels, runs as a non-root user, and checks /healthz. No secrets are baked in: tokens
# come from the environment at run time (see .env.example and config/docker.toml).

ARG VARIANT=cuda
ARG CUDA_VERSION=12.6.3
ARG BUILD_IMAGE=nvidia/cuda:${CUDA_VERSION}-devel-ubuntu24.04
ARG RUNTIME_IMAGE_cuda=nvidia/cuda:${CUDA_VERSION}-runtime-ubuntu24.04
ARG RUNTIME_IMAGE_cpu=ubuntu:24.04

# ---------------------------------------------------------------------------------------------
FROM ${BUILD_IMAGE} AS build
ARG VARIANT
ARG LLAMA_CPP_PYTHON_VERSION=0.3.36
# Compute capabilities to compile for (Turing to Hopper); there is no GPU to detect at build time.
ARG CUDA_ARCHITECTURES="75;80;86;89;90"
ENV DEBIAN_FRONTEND=noninteractive PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv python3-dev build-essential cmake git \
 && rm -rf /var/lib/apt/lists/*
RUN python3 -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
# CUDA: link against the driver stub (the real libcuda comes from the host at run time).
RUN if [ "$VARIANT" = "cuda" ]; then \
        ln -sf /usr/local/cuda/lib64/stubs/libcuda.so /usr/local/cuda/lib64/stubs/libcuda.so.1; \
        export CMAKE_ARGS="-DGGML_CUDA=on -DCMAKE_CUDA_ARCHITECTURES=${CUDA_ARCHITECTURES} -DGGML_NATIVE=off"; \
        export LD_LIBRARY_PATH=/usr/local/cuda/lib64/stubs:$LD_LIBRARY_PATH; \
    else \
        export CMAKE_ARGS="-DGGML_CUDA=off -DGGML_NATIVE=off"; \
    fi \
 && echo "CMAKE_ARGS=$CMAKE_ARGS" \
 && FORCE_CMAKE=1 pip wheel --wheel-dir /wheels "llama-cpp-python==${LLAMA_CPP_PYTHON_VERSION}"
WORKDIR /src
COPY pyproject.toml README.md ./
COPY agent ./agent
COPY tools ./tools
COPY homelab_common ./homelab_common
RUN pip wheel --prefer-binary --wheel-dir /wheels --find-links /wheels .

# ---------------------------------------------------------------------------------------------
FROM ${RUNTIME_IMAGE_cuda} AS runtime-cuda
FROM ${RUNTIME_IMAGE_cpu} AS runtime-cpu

FROM runtime-${VARIANT} AS runtime
ENV DEBIAN_FRONTEND=noninteractive PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONUNBUFFERED=1 PATH=/opt/venv/bin:$PATH \
    HOMELAB_AGENT_CONFIG=/etc/homelab-agent/config.toml
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv libgomp1 ca-certificates \
 && rm -rf /var/lib/apt/lists/*
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    python3 -m venv /opt/venv \
 && pip install --no-index --find-links /wheels homelab-agent
COPY config/docker.toml /etc/homelab-agent/config.toml
RUN useradd --uid 10001 --create-home --shell /usr/sbin/nologin agent \
 && mkdir -p /models && chown agent:agent /models
USER agent
WORKDIR /home/agent
VOLUME ["/models"]
EXPOSE 8765
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python3", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8765/healthz', timeout=4)"]
ENTRYPOINT ["homelab-agent"]
CMD ["serve", "--transport", "http"]
