# shellcheck shell=bash
# The persistent shell's helpers, typed into an interactive bash when it starts (shell.py sends this file
# without its comment lines, __PL_LIMIT__ / __PL_WORDS__ / __PL_CD__ replaced).
#
# __pl_begin opens a capped pipe (an unbuffered `head -c`: a background job may hold the pipe open for ever,
# so nothing may wait in stdio buffers; it ignores SIGINT, so that a Ctrl-C does not cut the output of
# background jobs); __pl_end pushes a marker through that pipe (it proves that all the command's output has
# been forwarded), then prints the sentinel: token, status, whether the marker went through, the pids a
# timeout must spare (running jobs and live output pipes), and $PWD. __pl_guard reports whether a DEBUG trap,
# an alias or a function now changes what the harness's command line does. Everything after the command is
# fork-free, so a sentinel still arrives when no process can be created.
set +H +o history; unset HISTFILE PROMPT_COMMAND; PS1=''; PS2=''; PS0=''; trap ':' PIPE
__pl_lim=__PL_LIMIT__; __pl_jf=/dev/shm/.promptless-jobs-$$; __pl_heads=()
__pl_words=" __PL_WORDS__ "
# ls, not find: the first of two fixed paths that exists, as one word.
# shellcheck disable=SC2012
__pl_sb=$(stdbuf --version >/dev/null 2>&1 && ls /usr/libexec/coreutils/libstdbuf.so /usr/lib/*/coreutils/libstdbuf.so 2>/dev/null | head -n1)
if [[ -n $__pl_sb ]]; then  # what `stdbuf -o0` does, without its extra exec per command
  __pl_begin() { exec {__pl_fd}> >(trap '' INT; _STDBUF_O=0 LD_PRELOAD=$__pl_sb exec head -c "$__pl_lim"); __pl_heads+=("$!"); }
else
  __pl_begin() { exec {__pl_fd}> >(trap '' INT; exec stdbuf -o0 head -c "$__pl_lim"); __pl_heads+=("$!"); }
fi
__pl_end() {
  local t=$1 s=$2 m=0 h keep=()
  if [[ -n ${__pl_fd-} ]]; then
    # stdout to the pipe's fd, stderr away: two streams, not two competing stderr redirections.
    # shellcheck disable=SC2261
    printf '\036%s\036' "$t" >&"$__pl_fd" 2>/dev/null && m=1
    exec {__pl_fd}>&-; unset __pl_fd
  fi
  for h in "${__pl_heads[@]}"; do kill -0 "$h" 2>/dev/null && keep+=("$h"); done
  __pl_heads=("${keep[@]}")
  jobs -p >|"$__pl_jf" 2>/dev/null && mapfile -t -O "${#keep[@]}" keep <"$__pl_jf"
  local IFS=,; printf '\037%s %s %s %s %s %s\037' "$t" "$s" "$m" "${keep[*]}" "$$" "$PWD"
}
__pl_guard() {
  local l w n=0 a=()
  { trap -p DEBUG RETURN; alias; enable -n; declare -F; } >|"$__pl_jf" 2>/dev/null
  mapfile -t a <"$__pl_jf"
  for l in "${a[@]}"; do
    case $l in
      "declare -f"*) w=${l##* }; [[ $w != __pl_* && $__pl_words == *" $w "* ]] && n=1 ;;
      "alias "*) w=${l#alias }; w=${w%%=*}; [[ $__pl_words == *" $w "* ]] && n=1 ;;
      *) n=1 ;;
    esac
  done
  printf '\037guard %s %s %s\037' "$1" "$n" "$$"
}
declare -ft __pl_guard; readonly -f __pl_begin __pl_end __pl_guard; readonly __pl_lim __pl_jf __pl_sb __pl_words
__PL_CD__
printf '\037ready %s\037' "$$"
