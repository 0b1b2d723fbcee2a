#!/usr/bin/env bash
# The Dockerfile, built where it can be: a Docker daemon that answers, and
# the base images (the Dockerfile's FROM lines) present or pullable. Then
# the image's `mirror version` must print the version line. Anywhere else
# it prints one line saying why not and exits 0, at once: a machine
# without Docker is no failure. The Dockerfile's and the systemd unit's
# promises are checked on every machine by go test (TestDeploy in
# cmd/mirror). A build or a run that fails where Docker works exits
# non-zero.
set -euo pipefail
cd "$(dirname "$0")/.."

skip() {
  echo "docker: not usable here ($1); Dockerfile not built"
  exit 0
}
# lastline: the last non-empty line of an error, flattened.
lastline() { printf '%s\n' "$1" | grep -v '^[[:space:]]*$' | tail -n 1 | tr -s '\t ' ' '; }

command -v docker >/dev/null 2>&1 || skip "no docker command"
if ! err=$(timeout 20 docker info 2>&1 >/dev/null); then
  skip "docker info: $(lastline "${err:-timed out}")"
fi
for image in $(awk 'toupper($1) == "FROM" { print $2 }' Dockerfile); do
  docker image inspect "$image" >/dev/null 2>&1 && continue
  if ! err=$(timeout 120 docker pull -q "$image" 2>&1 >/dev/null); then
    skip "cannot pull $image: $(lastline "${err:-timed out}")"
  fi
done

tag="mirror-ci-$$"
trap 'docker rmi -f "$tag" >/dev/null 2>&1 || true' EXIT
revision=$(git rev-parse HEAD 2>/dev/null || true)
docker build -q --build-arg REVISION="$revision" -t "$tag" . >/dev/null
line=$(docker run --rm "$tag" version)
echo "$line"
if ! printf '%s\n' "$line" | grep -Eq '^mirror [^ ]+, revision [^ ]+.*, go[0-9]'; then
  echo "docker: the image's 'mirror version' printed no version line" >&2
  exit 1
fi
echo "docker: image built and ran"
