#!/usr/bin/env bash
# Container smoke test: build the syncd image with podman on this machine, then run it.
#
#   bash tests/container/smoke.sh
#
# Checks: `syncd --help`; `syncd check` against a mounted config (valid: exit 0, invalid: exit 2
# with every problem listed); the process runs as a non-root user; `syncd db upgrade` and
# `syncd status` keep the store on the /var/lib/syncd volume across containers.
#
# This machine has no Docker engine and reaches no image registry, so the script installs podman
# (Debian packages) when missing and builds a local stand-in for python:3.11-slim from Debian's own
# packages. Containers here must use the runc runtime, cgroupfs, no default ulimits and the host
# network. A normal Docker builds the same Dockerfile with `docker build .`.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
IMAGE=${SYNCD_SMOKE_IMAGE:-localhost/syncd:smoke}
SERVE_NAME="syncd-smoke-serve-$$"
BASE_IMAGE=localhost/python:3.11-slim
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
export CONTAINERS_CONF=${CONTAINERS_CONF:-/tmp/containers-syncd.conf}

say() { printf '\n== %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
ok() { printf 'ok: %s\n' "$*"; }

ensure_tools() {
  if command -v podman >/dev/null && command -v debootstrap >/dev/null && command -v runc >/dev/null; then
    return
  fi
  say "installing podman, debootstrap and runc (Debian packages)"
  [ "$(id -u)" = 0 ] || fail "podman, debootstrap and runc are missing and installing them needs root"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman debootstrap runc >/dev/null
}

podman_() { podman --runtime runc --cgroup-manager=cgroupfs "$@"; }

ensure_base_image() {
  if podman image exists "$BASE_IMAGE"; then
    return
  fi
  say "building $BASE_IMAGE from Debian packages (once per machine, a few minutes)"
  local root
  root=$(mktemp -d /tmp/syncd-base.XXXXXX)
  if ! debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,ca-certificates \
      bookworm "$root/fs" >"$root/debootstrap.log" 2>&1; then
    tail -5 "$root/debootstrap.log" >&2
    rm -rf "$root"
    fail "debootstrap could not build the base image"
  fi
  ln -sf /usr/bin/python3 "$root/fs/usr/local/bin/python"
  rm -rf "$root/fs/var/cache/apt/archives/"*.deb
  tar -C "$root/fs" -c . | podman import --change 'CMD ["python3"]' - "$BASE_IMAGE" >/dev/null
  rm -rf "$root"
}

WORK=$(mktemp -d /tmp/syncd-smoke.XXXXXX)
VOLUME=syncd-smoke-$$
cleanup() {
  podman volume rm -f "$VOLUME" >/dev/null 2>&1 || true
  podman_ rm -f "$SERVE_NAME" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# run_syncd OUT_PREFIX [podman run options...] -- [syncd args...]; sets $status.
run_syncd() {
  local prefix=$1; shift
  local opts=()
  while [ "$1" != "--" ]; do opts+=("$1"); shift; done
  shift
  set +e
  podman_ run --rm --network=host "${opts[@]}" "$IMAGE" "$@" >"$WORK/$prefix.out" 2>"$WORK/$prefix.err"
  status=$?
  set -e
}

expect_status() {
  local prefix=$1 want=$2 what=$3
  if [ "$status" != "$want" ]; then
    cat "$WORK/$prefix.out" "$WORK/$prefix.err" >&2
    fail "$what: exit status $status, expected $want"
  fi
}

expect_text() {
  local file=$1 text=$2 what=$3
  grep -qF -- "$text" "$WORK/$file" || { cat "$WORK/$file" >&2; fail "$what: '$text' not in $file"; }
}

ensure_tools
[ -f "$CONTAINERS_CONF" ] || printf '[containers]\ndefault_ulimits = []\n' >"$CONTAINERS_CONF"
ensure_base_image

say "building $IMAGE"
secret_args=()
[ -f "$CA_BUNDLE" ] && secret_args=(--secret "id=cacert,src=$CA_BUNDLE")
podman_ build --network=host --isolation=chroot "${secret_args[@]}" \
  --build-arg BASE_IMAGE="$BASE_IMAGE" -t "$IMAGE" "$ROOT"

say "syncd --help"
run_syncd help -- --help
expect_status help 0 "syncd --help"
expect_text help.out "Usage: syncd" "syncd --help"
for command in backfill check db demo errors export report resync run sandbox status sync; do
  expect_text help.out "$command" "syncd --help lists $command"
done
ok "--help lists every command"

say "runs as a non-root user; entrypoint, stop signal and default command"
run_syncd whoami --entrypoint id -- -u
expect_status whoami 0 "id -u"
[ "$(cat "$WORK/whoami.out")" != 0 ] || fail "the container runs as root"
ok "uid $(cat "$WORK/whoami.out")"
cmd=$(podman image inspect --format '{{json .Config.Cmd}}' "$IMAGE")
[ "$cmd" = '["run","--config","/etc/syncd/config.yaml"]' ] || fail "default command is $cmd"
ok "CMD $cmd"
entrypoint=$(podman image inspect --format '{{json .Config.Entrypoint}}' "$IMAGE")
[ "$entrypoint" = '["/usr/bin/tini","--","syncd"]' ] || fail "entrypoint is $entrypoint"
stopsignal=$(podman image inspect --format '{{.Config.StopSignal}}' "$IMAGE")
[ "$stopsignal" = SIGTERM ] || fail "stop signal is $stopsignal"
ok "ENTRYPOINT $entrypoint (tini passes SIGTERM on to syncd), STOPSIGNAL $stopsignal"

# A valid config: one secret from the environment, one from a mounted file.
mkdir -p "$WORK/etc" "$WORK/secrets"
cat >"$WORK/etc/config.yaml" <<'YAML'
hubspot:
  access_token: ${HUBSPOT_ACCESS_TOKEN}
salesforce:
  auth:
    flow: jwt
    client_id: 3MVG9smoke
    username: integration@example.com
    private_key: ${file:/run/secrets/salesforce_private_key}
YAML
printf -- '-----BEGIN PRIVATE KEY-----\nsmoke\n-----END PRIVATE KEY-----\n' >"$WORK/secrets/salesforce_private_key"
chmod 0644 "$WORK/secrets/salesforce_private_key" "$WORK/etc/config.yaml"
mounts=(-v "$WORK/etc/config.yaml:/etc/syncd/config.yaml:ro"
        -v "$WORK/secrets/salesforce_private_key:/run/secrets/salesforce_private_key:ro")

say "syncd check on a valid mounted config"
run_syncd check_ok "${mounts[@]}" -e HUBSPOT_ACCESS_TOKEN=pat-smoke -- check --config /etc/syncd/config.yaml
expect_status check_ok 0 "syncd check (valid)"
expect_text check_ok.out "/etc/syncd/config.yaml: valid" "syncd check (valid)"
expect_text check_ok.out "sqlite:////var/lib/syncd/syncd.db" "default store inside the image"
ok "$(cat "$WORK/check_ok.out")"

say "syncd check on an invalid mounted config lists every problem"
cat >"$WORK/etc/bad.yaml" <<'YAML'
hubspot:
  access_token: ${HUBSPOT_ACCESS_TOKEN}
  colour: blue
salesforce:
  auth:
    flow: jwt
    client_id: 3MVG9smoke
    username: integration@example.com
    private_key: ${file:/run/secrets/missing_key}
YAML
chmod 0644 "$WORK/etc/bad.yaml"
run_syncd check_bad -v "$WORK/etc/bad.yaml:/etc/syncd/config.yaml:ro" -- check --config /etc/syncd/config.yaml
expect_status check_bad 2 "syncd check (invalid)"
expect_text check_bad.err "config.yaml:2:3 hubspot.access_token: environment variable HUBSPOT_ACCESS_TOKEN is not set" \
  "missing variable"
expect_text check_bad.err "config.yaml:3:3 hubspot.colour: unknown key" "unknown key"
expect_text check_bad.err "salesforce.auth.private_key: secret file /run/secrets/missing_key does not exist" "missing file"
expect_text check_bad.err "3 problems in the configuration" "problem count"
ok "exit 2, all 3 problems listed"

say "the store lives on the /var/lib/syncd volume"
podman volume create "$VOLUME" >/dev/null
run_syncd upgrade "${mounts[@]}" -e HUBSPOT_ACCESS_TOKEN=pat-smoke -v "$VOLUME:/var/lib/syncd" -- \
  db upgrade --config /etc/syncd/config.yaml
expect_status upgrade 0 "syncd db upgrade"
expect_text upgrade.out "is at the latest schema" "syncd db upgrade"
run_syncd status "${mounts[@]}" -e HUBSPOT_ACCESS_TOKEN=pat-smoke -v "$VOLUME:/var/lib/syncd" -- \
  status --config /etc/syncd/config.yaml
expect_status status 0 "syncd status in a fresh container"
expect_text status.out "store: sqlite:////var/lib/syncd/syncd.db" "syncd status"
ok "db upgrade, then status from a new container on the same volume"

say "the whole product inside the image: syncd demo (simulators, SDKs, engine, store)"
run_syncd demo -- demo --contacts 200
expect_status demo 0 "syncd demo"
expect_text demo.out "1. First sync, both ways" "syncd demo"
expect_text demo.out "0 writes (nothing changed, nothing echoed)" "syncd demo"
expect_text demo.out "5. Next cycle of every flow: 0 writes" "syncd demo (the closed loop)"
ok "$(grep -F "Next cycle" "$WORK/demo.out" | tr '\n' ' ')"

say "SIGTERM (podman stop) ends a long-running command cleanly"
podman_ run -d --name "$SERVE_NAME" --network=host "$IMAGE" sandbox serve --contacts 50 \
  --hubspot-port 0 --salesforce-port 0 >/dev/null
for _ in $(seq 1 120); do
  podman_ logs "$SERVE_NAME" 2>/dev/null | grep -q '"hubspot"' && break
  sleep 0.5
done
podman_ logs "$SERVE_NAME" 2>/dev/null | grep -q '"hubspot"' || { podman_ logs "$SERVE_NAME" >&2; fail "sandbox serve never started"; }
podman_ stop --time 20 "$SERVE_NAME" >/dev/null
code=$(podman_ inspect --format '{{.State.ExitCode}}' "$SERVE_NAME")
podman_ rm -f "$SERVE_NAME" >/dev/null
[ "$code" = 0 ] || fail "syncd exited with status $code on SIGTERM"
ok "sandbox serve stopped on SIGTERM with exit status 0"

say "container smoke test passed"
