# shellcheck shell=bash
# The control shell: fork-free helpers that still work when the container's pid limit is reached (shell.py
# sends this file without its comment lines).
#
# __pl_sweep SID SHELL KEEP... SIGKILLs every process of session SID except the shells from SHELL up to SID
# (a `su` typed at the start nests the agent's shell) and the subtrees of KEEP, in rounds until none is
# left. __pl_quiet SID says whether no process of session SID is running or in uninterruptible sleep.
__pl_victims() {
  local sid=$1 shell=$2 f line rest p q i spared; shift 2
  local -A keep=() ppid=() sess=() chain=(); local -a a
  for p in "$@"; do keep[$p]=1; done
  for f in /proc/[0-9]*/stat; do
    read -r line 2>/dev/null <"$f" || continue
    p=${f#/proc/}; p=${p%/stat}; rest=${line##*) }
    # Split the stat fields on purpose, with globbing off.
    set -f
    # shellcheck disable=SC2206
    a=($rest)
    set +f
    ppid[$p]=${a[1]}; sess[$p]=${a[3]}
  done
  q=$shell
  for ((i = 0; i < 64; i++)); do
    chain[$q]=1; [[ $q == "$sid" || $q == 0 || $q == 1 ]] && break; q=${ppid[$q]-0}
  done
  __pl_v=()
  for p in "${!sess[@]}"; do
    [[ ${sess[$p]} == "$sid" && -z ${chain[$p]-} ]] || continue
    q=$p; spared=0
    for ((i = 0; i < 64; i++)); do
      [[ -n ${keep[$q]-} ]] && { spared=1; break; }
      q=${ppid[$q]-0}; [[ $q == 0 || $q == 1 ]] && break
    done
    ((spared)) || __pl_v+=("$p")
  done
}
__pl_sweep() {
  local n=0 round
  for ((round = 0; round < 50; round++)); do
    __pl_victims "$@"
    ((${#__pl_v[@]})) || break
    # Freeze first so that a fork bomb cannot replace its processes faster than they die.
    kill -STOP "${__pl_v[@]}" 2>/dev/null; kill -KILL "${__pl_v[@]}" 2>/dev/null
    ((n += ${#__pl_v[@]}))
  done
  echo "swept $n"
}
# ``__pl_quiet SID``: whether no process of session SID is running or in uninterruptible sleep.
__pl_quiet() {
  local f line rest; local -a a
  for f in /proc/[0-9]*/stat; do
    read -r line 2>/dev/null <"$f" || continue
    rest=${line##*) }
    set -f
    # shellcheck disable=SC2206
    a=($rest)
    set +f
    [[ ${a[3]} == "$1" && ${a[0]} == [RD] ]] && { echo busy; return; }
  done
  echo quiet
}
echo ready
