# Sourced first by every script the README's two commands reach: strict mode that never ends a script silently.
# `set -e` alone exits without a word when a command fails outside a condition (a pipeline whose `head` closed
# early under pipefail, a failing $(...)); the ERR trap names the script, the line and the command first.
# -E: functions, command substitutions and subshells inherit the trap.
set -Eeuo pipefail
trap 'milan_rc=$?; printf "%s: line %s: \`%s\` failed (exit status %s)\n" "${BASH_SOURCE[0]##*/}" "$LINENO" \
  "$BASH_COMMAND" "$milan_rc" >&2' ERR
