# syncd: one image, one YAML config, secrets from env/files.
#   docker build -t syncd .
#   docker run -v syncd-data:/var/lib/syncd -v $PWD/config.yaml:/etc/syncd/config.yaml:ro syncd
ARG BASE_IMAGE=python:3.11-slim

FROM ${BASE_IMAGE} AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY syncd ./syncd
COPY connectors ./connectors
COPY migrations ./migrations
COPY mappings ./mappings
# The cacert secret is this build host's CA bundle when one is offered; without it the image's own is used.
RUN --mount=type=secret,id=cacert,target=/etc/ssl/certs/ca-certificates.crt \
    python -m venv /opt/build \
 && PIP_CERT=/etc/ssl/certs/ca-certificates.crt PIP_DISABLE_PIP_VERSION_CHECK=1 \
    /opt/build/bin/pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM ${BASE_IMAGE}
# tini as PID 1 forwards SIGTERM to syncd and reaps children; a bare PID 1 ignores SIGTERM by default.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 10001 --home-dir /var/lib/syncd --shell /usr/sbin/nologin syncd \
 && mkdir -p /var/lib/syncd /etc/syncd \
 && chown syncd:syncd /var/lib/syncd
RUN python -m venv /opt/syncd
# Dependencies first, in a layer that only changes with pyproject.toml; then syncd itself.
COPY pyproject.toml /tmp/pyproject.toml
RUN --mount=type=secret,id=cacert,target=/etc/ssl/certs/ca-certificates.crt \
    python -c "import tomllib; print('\n'.join(tomllib.load(open('/tmp/pyproject.toml', 'rb'))['project']['dependencies']))" \
      >/tmp/requirements.txt \
 && PIP_CERT=/etc/ssl/certs/ca-certificates.crt PIP_DISABLE_PIP_VERSION_CHECK=1 \
    /opt/syncd/bin/pip install --no-cache-dir -r /tmp/requirements.txt \
 && rm /tmp/pyproject.toml /tmp/requirements.txt
COPY --from=build /wheels/ /tmp/wheels/
RUN /opt/syncd/bin/pip install --no-cache-dir --no-deps /tmp/wheels/*.whl && rm -rf /tmp/wheels
ENV PATH=/opt/syncd/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    SYNCD_STORE_URL=sqlite:////var/lib/syncd/syncd.db
VOLUME /var/lib/syncd
WORKDIR /var/lib/syncd
USER syncd
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "--", "syncd"]
# `syncd run` (the daemon) arrives with the sync issue; until then the default command exits with a usage error.
CMD ["run", "--config", "/etc/syncd/config.yaml"]
