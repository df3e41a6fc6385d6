#!/usr/bin/env bash
# Catches the next missing install step in CI instead of on a user's first run. ./run-tests.sh runs it right after
# e2e/ensure-prereqs.sh; it fails when
#   1. a script asks for a command that the prerequisites step does not provide: `command -v NAME` and
#      `for tool in NAME...` (the loop the scripts use to check several) against `ensure-prereqs.sh --list-tools`;
#      a probe for something optional says so on its line with the comment `# optional tool`;
#   2. a script other than ensure-prereqs.sh installs packages itself (`apt-get install`): a script further down
#      must never be the first to need a package;
#   3. a script of the README's commands does not source e2e/lib/strict.sh, whose ERR trap names the failing
#      command and line (no script ends without a message);
#   4. a listed command is not on this machine after the prerequisites step ran.
# Before checking the repository, it checks itself: a planted script that needs an unlisted tool must be caught.
# Usage: e2e/check-prereqs.sh          exit status 0 only when every check passed
source "$(dirname "${BASH_SOURCE[0]}")/lib/strict.sh"

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
PROVIDED=$(e2e/ensure-prereqs.sh --list-tools)

# The repository's shell scripts: tracked files whose first line runs bash. Not the Maven wrapper (Maven's own).
# Nor this checker, whose own text quotes the patterns it looks for.
scripts() {
  git ls-files -z | xargs -0 grep -l -m1 '^#!/usr/bin/env bash\|^#!/bin/bash' 2>/dev/null |
    grep -vx -e mvnw -e e2e/check-prereqs.sh
}
# Scripts that run elsewhere or by hand: inside the trainer image, as docker's runtime wrapper, benchmarks.
outside_readme() { [[ $1 == trainer-image/docker/* || $1 == images/runc-nosysres || $1 == */bench/* ]]; }

# needed_tools FILE: the commands FILE asks for by name, one "LINE NAME" per line.
needed_tools() {
  awk '
    /# optional tool/ || /^[ \t]*#/ { next }
    {
      line = $0
      while (match(line, /command -v [A-Za-z0-9_.+-]+/)) {
        print FNR, substr(line, RSTART + 11, RLENGTH - 11)
        line = substr(line, RSTART + RLENGTH)
      }
      if (match($0, /for tool in [^;]+;/)) {
        n = split(substr($0, RSTART + 12, RLENGTH - 13), names, /[ \t]+/)
        for (i = 1; i <= n; i++) if (names[i] != "" && names[i] !~ /^\$/) print FNR, names[i]
      }
    }' "$1"
}

# unlisted_tools FILE...: "FILE:LINE: NAME" for every tool asked for that the prerequisites do not provide.
unlisted_tools() {
  local f line name
  for f in "$@"; do
    while read -r line name; do
      grep -qxF -- "$name" <<<"$PROVIDED" || echo "$f:$line: $name"
    done < <(needed_tools "$f")
  done
}

failures=0
fail() { echo "check-prereqs.sh: FAIL $*" >&2; failures=$((failures + 1)); }

# 0. The scanner itself: a planted need for an unlisted tool is caught, a listed one and an optional one are not.
planted=$(mktemp -d)
trap 'rm -rf "$planted"' EXIT
printf '%s\n' '#!/usr/bin/env bash' 'command -v milan-planted-tool >/dev/null || die "missing"' \
  'command -v jq >/dev/null || die "missing"' 'command -v nvidia-smi >/dev/null && echo gpu # optional tool' \
  'for tool in lua5.1 milan-planted-loop; do command -v "$tool"; done' >"$planted/planted.sh"
caught=$(unlisted_tools "$planted/planted.sh" | sed "s#^$planted/##")
expected=$(printf '%s\n' 'planted.sh:2: milan-planted-tool' 'planted.sh:5: milan-planted-loop')
[[ $caught == "$expected" ]] || fail "the scanner missed a planted tool: expected '$expected', got '$caught'"

# 1-3. The repository's scripts.
mapfile -t all < <(scripts)
((${#all[@]} > 10)) || fail "found only ${#all[@]} scripts; is this a git checkout?"
while read -r hit; do
  [[ -n $hit ]] && fail "$hit is asked for but e2e/ensure-prereqs.sh does not provide it (add it to its TOOLS)"
done < <(unlisted_tools "${all[@]}")
for f in "${all[@]}"; do
  [[ $f == e2e/ensure-prereqs.sh ]] && continue
  while IFS=: read -r line _; do
    fail "$f:$line installs packages itself; add them to e2e/ensure-prereqs.sh instead"
  done < <(grep -n '^[^#]*apt-get install' "$f" || true)
done
for f in "${all[@]}"; do
  outside_readme "$f" && continue
  grep -q '^source .*e2e/lib/strict.sh"\|^source .*/lib/strict.sh"' "$f" ||
    fail "$f does not source e2e/lib/strict.sh (a failure there could end it without a message)"
done

# 4. This machine, after the prerequisites step.
for tool in $PROVIDED; do
  command -v "$tool" >/dev/null || fail "'$tool' is listed by e2e/ensure-prereqs.sh but is not installed; run it"
done

if ((failures)); then
  echo "check-prereqs.sh: $failures problem(s)" >&2
  exit 1
fi
echo "check-prereqs.sh: ${#all[@]} scripts need only what e2e/ensure-prereqs.sh provides ($(wc -w <<<"$PROVIDED") tools, all present); the scanner caught its planted tools"
