# free_port VAR: sets variable VAR to a TCP port nobody listens on now (sourced by local-cluster.sh and kueue.sh;
# the caller defines die). Not in a $(...) subshell, so TAKEN remembers the ports already handed out by this shell.
# A port can still be taken between this check and the bind: local-cluster.sh starts again on new ports then.
TAKEN=" "
free_port() {
  local p
  for _ in $(seq 200); do
    p=$((20000 + RANDOM % 40000))
    [[ $TAKEN == *" $p "* ]] && continue
    [[ -z $(ss -Htan "sport = :$p") ]] || continue
    TAKEN+="$p "
    printf -v "$1" '%s' "$p"
    return 0
  done
  die "found no free TCP port on 127.0.0.1"
}
