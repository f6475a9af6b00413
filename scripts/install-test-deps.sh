#!/usr/bin/env bash
# Everything the test suite needs on a fresh Debian machine: the Debian packages the tests
# start for real (nginx, haproxy, Prometheus, Chromium, PostgreSQL, OpenSSH), systemd-analyze, uv, and the
# locked Python environment.
# Idempotent: packages already on the machine are not installed again.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || packages+=(nginx)
command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || packages+=(haproxy)
command -v prometheus >/dev/null 2>&1 || packages+=(prometheus)
# The PostgreSQL store's tests start their own server with Debian's initdb/pg_ctl
# (tests/store/pg_cluster.py); the package's own cluster is not used.
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || packages+=(postgresql)
# The dashboard tests drive Debian's Chromium through Playwright (never a downloaded browser).
[ -x /usr/bin/chromium ] || packages+=(chromium)
# `schedule export --systemd` units are checked with `systemd-analyze verify` (tests/schedules/).
command -v systemd-analyze >/dev/null 2>&1 || packages+=(systemd)
# Fleet tests start real OpenSSH servers on 127.0.0.1 (tests/fleet/sshd.py); `become` goes
# through sudo -n.
[ -x /usr/sbin/sshd ] || packages+=(openssh-server)
command -v ssh-keygen >/dev/null 2>&1 || packages+=(openssh-client)
command -v sudo >/dev/null 2>&1 || packages+=(sudo)
# The seed 003 example's sandbox is the seed's own tools: sqlite3 and curl (tests/examples/).
command -v sqlite3 >/dev/null 2>&1 || packages+=(sqlite3)
command -v curl >/dev/null 2>&1 || packages+=(curl)
# Imported runbooks with ```fish fences run under fish (tests/markdown/test_round11_classes.py).
command -v fish >/dev/null 2>&1 || packages+=(fish)
if [ "${#packages[@]}" -gt 0 ]; then
    sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo -n)
    echo "== apt-get install ${packages[*]}"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends "${packages[@]}" </dev/null >/dev/null
fi
command -v uv >/dev/null 2>&1 || pip install -q uv
uv sync --locked --all-groups
