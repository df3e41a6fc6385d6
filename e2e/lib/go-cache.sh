# Sourced by the e2e/build-*.sh scripts that build a Go program into a directory of ${MILAN_CACHE:-/var/cache/milan}
# keyed by what went into it: the tool checks, the key, the lock, and the reuse of a complete build. The caller sets
# SCRIPT (its name, for messages) first.
CACHE_ROOT=${MILAN_CACHE:-/var/cache/milan}
die() { echo "$SCRIPT: error: $*" >&2; exit 1; }

command -v go >/dev/null || die "'go' is not on PATH; install Go 1.26 or newer"
command -v sha256sum >/dev/null || die "'sha256sum' is missing; run e2e/ensure-prereqs.sh"
# Exactly the installed Go, and static binaries that run on any of the machines.
export GOTOOLCHAIN=local CGO_ENABLED=0

# go_cache_key LINE...: 16 hex digits of a hash of the lines and the Go version, OS and architecture.
go_cache_key() {
  { printf '%s\n' "$@"; go env GOVERSION GOOS GOARCH; } | sha256sum | cut -c1-16
}

# go_cache_lock NAME: creates the cache root and holds its lock NAME.lock (file descriptor 9) until the script exits,
# so two scripts building the same thing take turns and the second finds the first's build.
go_cache_lock() {
  mkdir -p "$CACHE_ROOT" || die "cannot create $CACHE_ROOT; set MILAN_CACHE to a writable directory"
  exec 9>"$CACHE_ROOT/$1.lock"
  flock 9
}

# go_cache_complete STAMP FILE: whether an earlier build finished (its stamp written last, its FILE executable).
go_cache_complete() {
  [[ -f $1 && -x $2 ]]
}
