# Debian 11 roots for building and trying the Linux package; sourced by scripts/package and
# installer/linux/ci-check.sh. Made with debootstrap and kept in the cache directory
# (${MIBAO_CACHE:-$HOME/.cache/mibao-ci}) under a name keyed by what they are made of, so a
# second run reuses them and a changed list of packages makes a new one.

CACHE=${MIBAO_CACHE:-$HOME/.cache/mibao-ci}
SUITE=bullseye
MIRROR=${MIBAO_DEBIAN_MIRROR:-http://deb.debian.org/debian}

step() { echo "== $(date +%T) $*"; }

# key TEXT... : a short hash naming a cache entry by everything it depends on
key() { printf '%s\n' "$@" | sha256sum | cut -c1-12; }

# in_root ROOT COMMAND... : run a command in the root with a clean environment (the host's
# pip settings and proxies must not leak in), /proc and /dev mounted (release_root unmounts
# them and the bind mounts; callers call it when done, and from a trap)
in_root() {
  root=$1; shift
  mountpoint -q "$root/proc" || mount -t proc proc "$root/proc"
  mountpoint -q "$root/dev" || mount --bind /dev "$root/dev"
  env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=dumb \
    chroot "$root" "$@"
}

release_root() {
  for m in "$1/build/wheels" "$1/build/out" "$1/dev" "$1/proc"; do
    mountpoint -q "$m" 2>/dev/null && umount -l "$m"
  done
  return 0
}

# remove_root DIR : delete a root, never while something is mounted inside it (a bind mount of
# /dev left behind would otherwise take the host's /dev with it)
remove_root() {
  release_root "$1"
  if awk -v d="$1/" 'index($2, d) == 1 { found = 1 } END { exit !found }' /proc/mounts; then
    echo "refusing to delete $1: still mounted inside" >&2
    return 1
  fi
  rm -rf "$1"
}

# need_tool TOOL : installs Debian's package of that name when the command is missing. The CI
# makes its clean root (ci-check.sh --prepare) before scripts/package runs, so each script that
# uses debootstrap installs it itself: on a new machine the root's debootstrap was not found.
need_tool() {
  command -v "$1" >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >/dev/null; }
}

# debian_root NAME PACKAGES : prints the directory of a root of Debian 11 with PACKAGES
# installed, making it (debootstrap, then apt-get) when the cache has none for this list.
# Made under a temporary name and renamed when complete: an interrupted run leaves no half root.
debian_root() {
  name=$1; packages=$2
  dir="$CACHE/$name-$(key "$SUITE" "$packages")"
  if [ ! -d "$dir" ]; then
    mkdir -p "$CACHE"
    for old in "$CACHE/$name"-*; do [ -d "$old" ] && remove_root "$old"; done
    tmp="$dir.partial"
    step "debootstrap $SUITE ($name)" >&2
    need_tool debootstrap >&2
    debootstrap --variant=minbase "$SUITE" "$tmp" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 \
      || { tail -20 "$CACHE/debootstrap.log" >&2; return 1; }
    step "apt-get install ($name)" >&2
    in_root "$tmp" /bin/sh -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -qq --no-install-recommends $packages >/tmp/apt.log 2>&1 && apt-get clean" >&2 \
      || { tail -20 "$tmp/tmp/apt.log" >&2; release_root "$tmp"; return 1; }
    release_root "$tmp"
    mv "$tmp" "$dir"
  fi
  echo "$dir"
}
