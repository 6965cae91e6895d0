#!/usr/bin/env bash
# Builds the base image of steps/tests/it/systemd.rs: a minimal Debian with systemd as
# /sbin/init, debootstrapped from the Debian mirror this machine's apt already uses, and
# imported into the local Docker engine (no registry is asked for anything).
#
# Usage: build-rootfs.sh [IMAGE]     (default IMAGE: ollama-verify-systemd-base:bookworm)
#
# The mirror is read at run time from apt's configuration (/etc/apt/sources.list.d/*.sources
# `URIs:`, then /etc/apt/sources.list and *.list `deb` lines); OLLAMA_VERIFY_DEBIAN_MIRROR
# overrides it. OLLAMA_VERIFY_DEBIAN_SUITE picks another suite (default: bookworm).
# OLLAMA_VERIFY_ROOTFS_PACKAGES and OLLAMA_VERIFY_ROOTFS_LABEL build another base image
# the same way (.ci/ansible.sh: sshd and python3 for Ansible's hosts).
#
# Exit codes: 0 built, or the image already exists (nothing done);
#             77 it cannot be built on this machine (not root, no Docker, no debootstrap
#                and apt-get cannot install it, no mirror in apt's configuration, the
#                mirror cannot be reached): the reason is on stderr, the caller skips;
#             1 a step failed.
set -euo pipefail

IMAGE="${1:-ollama-verify-systemd-base:bookworm}"
SUITE="${OLLAMA_VERIFY_DEBIAN_SUITE:-bookworm}"
PACKAGES="${OLLAMA_VERIFY_ROOTFS_PACKAGES:-systemd,systemd-sysv,dbus,curl,ca-certificates,procps}"
LABEL="${OLLAMA_VERIFY_ROOTFS_LABEL:-systemd-base}"

cannot() {
  echo "build-rootfs: cannot build $IMAGE here: $1" >&2
  exit 77
}
took() { echo "build-rootfs: $1 took $((SECONDS - $2)) s"; }

command -v docker >/dev/null 2>&1 || cannot "the docker CLI is not installed"
docker info >/dev/null 2>&1 || cannot "the Docker daemon does not answer (docker info)"
# One build at a time on this machine: a second caller waits, then finds the image.
if command -v flock >/dev/null 2>&1; then
  exec 9>"${TMPDIR:-/var/tmp}/ollama-verify-systemd-base.lock"
  if ! flock -n 9; then
    echo "build-rootfs: another build of the base image is running; waiting for it"
    flock 9
  fi
fi
if docker image inspect "$IMAGE" >/dev/null 2>&1; then
  echo "build-rootfs: $IMAGE exists: nothing to build (docker rmi $IMAGE to rebuild it)"
  exit 0
fi
[[ "$EUID" -eq 0 ]] || cannot "debootstrap needs root (running as uid $EUID)"

if ! command -v debootstrap >/dev/null 2>&1; then
  start=$SECONDS
  echo "build-rootfs: debootstrap is missing; installing it with apt-get"
  command -v apt-get >/dev/null 2>&1 || cannot "debootstrap is missing and there is no apt-get"
  if ! apt-get install -y -q debootstrap >/dev/null 2>&1; then
    apt-get update -q >/dev/null 2>&1 || true
    apt-get install -y -q debootstrap >/dev/null 2>&1 ||
      cannot "debootstrap is missing and 'apt-get install debootstrap' failed"
  fi
  took "installing debootstrap" "$start"
fi

# The first Debian archive apt uses here: a `deb` source of a base suite (no -security,
# -updates, -backports), from deb822 files first, then one-line sources.
apt_mirror() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f "$f" ]] || continue
    awk '
      function flush() {
        if (types ~ /(^| )deb( |$)/ && enabled != "no" && uris != "") {
          n = split(suites, s, " ")
          for (i = 1; i <= n; i++) if (s[i] !~ /-/) { split(uris, u, " "); print u[1]; exit }
        }
        types = ""; uris = ""; suites = ""; enabled = ""
      }
      /^[ \t]*#/ { next }
      /^[ \t]*$/ { flush(); next }
      tolower($1) == "types:" { $1 = ""; types = $0 }
      tolower($1) == "uris:" { $1 = ""; sub(/^ +/, ""); uris = $0 }
      tolower($1) == "suites:" { $1 = ""; suites = $0 }
      tolower($1) == "enabled:" { enabled = tolower($2) }
      END { flush() }
    ' "$f"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f "$f" ]] || continue
    # deb [options] URI SUITE COMPONENTS...
    sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$f" | awk '$1 == "deb" && $3 !~ /-/ { print $2 }'
  done
}

if [[ -n "${OLLAMA_VERIFY_DEBIAN_MIRROR:-}" ]]; then
  MIRROR="$OLLAMA_VERIFY_DEBIAN_MIRROR"
  origin="OLLAMA_VERIFY_DEBIAN_MIRROR"
else
  MIRROR="$(apt_mirror | head -n 1)"
  origin="apt's configuration"
fi
MIRROR="${MIRROR%/}"
[[ -n "$MIRROR" ]] ||
  cannot "no Debian mirror found in apt's configuration (/etc/apt/sources.list*); set OLLAMA_VERIFY_DEBIAN_MIRROR"
echo "build-rootfs: mirror $MIRROR (from $origin), suite $SUITE"

release="$MIRROR/dists/$SUITE/Release"
if command -v curl >/dev/null 2>&1; then
  curl -fsS --max-time 20 -o /dev/null "$release" 2>/dev/null ||
    cannot "the mirror does not answer for $release (no network, or not a Debian mirror)"
fi

ROOTFS="$(mktemp -d "${TMPDIR:-/var/tmp}/ollama-verify-rootfs.XXXXXX")"
cleanup() {
  # debootstrap mounts proc and sys inside the target: never delete through a mount.
  local m
  awk -v d="$ROOTFS" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r |
    while read -r m; do umount -l "$m" 2>/dev/null || true; done
  rm -rf --one-file-system "$ROOTFS"
}
trap cleanup EXIT

start=$SECONDS
echo "build-rootfs: debootstrap --variant=minbase $SUITE into $ROOTFS (a minute or two) ..."
if ! debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$ROOTFS" "$MIRROR" \
  >"$ROOTFS.log" 2>&1; then
  tail -n 20 "$ROOTFS.log" >&2
  if grep -qE "Failed getting release file|Couldn't download|Failure trying to run|Temporary failure in name resolution" "$ROOTFS.log"; then
    rm -f "$ROOTFS.log"
    cannot "debootstrap could not fetch from $MIRROR (see the lines above)"
  fi
  rm -f "$ROOTFS.log"
  echo "build-rootfs: debootstrap failed (see the lines above)" >&2
  exit 1
fi
rm -f "$ROOTFS.log"
took "debootstrap" "$start"

# Smaller, and a fresh identity for every container: systemd writes a machine id at boot.
rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/*
: >"$ROOTFS/etc/machine-id"
rm -f "$ROOTFS/var/lib/dbus/machine-id"

start=$SECONDS
tar --numeric-owner -C "$ROOTFS" -c . |
  docker import \
    --change 'ENV container=docker' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["/sbin/init"]' \
    --change "LABEL org.ollama-verify.test=$LABEL" \
    --message "debootstrap --variant=minbase --include=$PACKAGES $SUITE" \
    - "$IMAGE" >/dev/null
took "docker import" "$start"
echo "build-rootfs: built $IMAGE"
