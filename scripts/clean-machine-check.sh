#!/usr/bin/env bash
# Runs README's two set-up commands as written on a clean Debian 12: a fresh `debootstrap
# --variant=minbase bookworm` root (no build tools, no Node.js, no LibTorch, no llama.cpp cache),
# into which this repository's HEAD is cloned, with ../shared beside it when present (the tests'
# fixtures). Each command runs under `chroot` with an empty environment, and its exit code and
# wall time are printed. Not part of CI: it downloads ~1.5 GB of packages and takes about an hour
# on 2 cores (docs/quickstart.md, "On a clean machine").
#
#   sudo scripts/clean-machine-check.sh [ROOT_DIR] [1|2|both]     # default: /var/tmp/tune-clean both
#
# Needs root, debootstrap (apt-get install debootstrap) and access to Debian's mirror and the npm
# registry. A proxy's certificate authority installed on this host (/usr/local/share/ca-certificates)
# is copied in, as a machine behind that proxy would have it.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
root="${1:-/var/tmp/tune-clean}"
which="${2:-both}"
mirror="${TUNE_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
[ "$(id -u)" -eq 0 ] || { echo "clean-machine-check: needs root (debootstrap, chroot, mounts)" >&2; exit 1; }
command -v debootstrap >/dev/null || { echo "clean-machine-check: needs debootstrap; hint: apt-get install debootstrap" >&2; exit 1; }

# ROOT_DIR is deleted and made anew: refuse a folder this script did not make.
if [ -e "${root}" ] && [ -n "$(ls -A "${root}" 2>/dev/null)" ] && [ ! -f "${root}/.tune-clean-machine" ]; then
  echo "clean-machine-check: ${root} exists and was not made by this script; choose another ROOT_DIR" >&2
  exit 1
fi
unmount() { for m in dev/pts dev sys proc; do umount "${root}/${m}" 2>/dev/null || true; done; }
trap unmount EXIT
unmount
for m in dev/pts dev sys proc; do
  if mountpoint -q "${root}/${m}"; then echo "clean-machine-check: ${root}/${m} is still mounted" >&2; exit 1; fi
done
rm -rf --one-file-system "${root}"
mkdir -p "${root}"
touch "${root}/.tune-clean-machine"
echo "== debootstrap bookworm (minbase) into ${root}"
debootstrap --variant=minbase bookworm "${root}" "${mirror}" > "${root}.debootstrap.log" 2>&1 ||
  { tail -20 "${root}.debootstrap.log" >&2; exit 1; }
cat > "${root}/etc/apt/sources.list" <<SOURCES
deb ${mirror} bookworm main
deb ${mirror} bookworm-updates main
deb ${mirror%/debian}/debian-security bookworm-security main
SOURCES
cp /etc/resolv.conf "${root}/etc/resolv.conf"
# Node.js reads its own CA list, not the system's: point it at the system bundle that will hold the copy.
extra_env=()
if compgen -G "/usr/local/share/ca-certificates/*.crt" > /dev/null; then
  mkdir -p "${root}/usr/local/share/ca-certificates"
  cp /usr/local/share/ca-certificates/*.crt "${root}/usr/local/share/ca-certificates/"
  extra_env=(NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt)
fi
for m in proc sys dev dev/pts; do mount --bind "/${m}" "${root}/${m}"; done
mkdir -p "${root}/work"
git clone -q "${repo}" "${root}/work/main"
[ -d "${repo}/../shared" ] && cp -a "${repo}/../shared" "${root}/work/shared"
echo "== clone: $(git -C "${root}/work/main" log --oneline -1)"

# README command N, as written, in the clone, with none of this host's environment.
run_command() {
  local started status=0
  started=$(date +%s)
  chroot "${root}" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "${extra_env[@]}" \
    bash -c "cd /work/main && $1" || status=$?
  echo "== README command $2 ($1): exit ${status} after $(( $(date +%s) - started )) s"
  return "${status}"
}
[ "${which}" = 2 ] || run_command ./scripts/run-default.sh 1
[ "${which}" = 1 ] || run_command ./scripts/run-tests.sh 2
