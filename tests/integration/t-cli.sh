# The command-line rules. p11guard: -h/--help on every command (exit 0, usage on stdout),
# --version, unknown or extra arguments and options that make no sense together are usage
# errors (exit 2) that say what to do. p11guard-agent follows ssh-agent: extra arguments are
# the command, usage errors exit 1. And bash completion, loaded in bash, completes the
# subcommands and options of both programs.
. "$(dirname "$0")/lib.sh"

exit_of() { rc=0; "$@" > "$T/stdout" 2> "$T/stderr" || rc=$?; echo "$rc"; }

for cmd in "" "tokens" "policy" "policy check" "policy explain" "reload" "tty" "status" \
	"why" "audit"; do
	for h in -h --help; do
		# shellcheck disable=SC2086
		[ "$(exit_of "$CLI" $cmd $h)" = 0 ] || fail "p11guard $cmd $h: exit $(cat "$T/stderr")"
		grep -q "^usage: p11guard" "$T/stdout" || fail "p11guard $cmd $h printed no usage"
	done
done
[ "$(exit_of "$CLI" --version)" = 0 ] && grep -q "^p11guard [0-9]" "$T/stdout" || fail "--version"
ok "every p11guard command takes -h and --help; --version"

usage_error() {         # usage_error TEXT-IN-STDERR ARGS...
	want=$1; shift
	[ "$(exit_of "$CLI" "$@")" = 2 ] || fail "p11guard $*: exit status not 2"
	grep -qF -- "$want" "$T/stderr" || fail "p11guard $*: no \"$want\" in: $(cat "$T/stderr")"
}
usage_error "unknown command \"frobnicate\" (p11guard --help lists them)" frobnicate
usage_error "unexpected argument \"extra\"" --version extra
usage_error "unexpected argument \"extra\"" tokens extra
usage_error "--uri selects tokens of a --module" tokens --uri "pkcs11:token=x"
usage_error "--module and --config each say what to list" tokens --module x --config y
usage_error "unknown subcommand \"lint\"" policy lint
usage_error "expected at most one FILE" policy check a b
usage_error "--key is required" policy explain
usage_error "unexpected argument \"extra\"" policy explain --key k extra
usage_error "unexpected argument \"extra\"" reload extra
usage_error "unexpected argument \"b\"" tty a b
usage_error "unexpected argument \"extra\"" status extra
usage_error "usage: p11guard why" why --bogus
usage_error "--decision is allow, deny or hide" audit --decision maybe
usage_error "--config and --file both name the file" audit --config a --file b
usage_error "is not a time" audit --since someday
[ "$(exit_of env -u SSH_AUTH_SOCK "$CLI" reload)" = 1 ] &&
	grep -q "SSH_AUTH_SOCK is not set: no agent to ask" "$T/stderr" ||
	fail "reload without SSH_AUTH_SOCK: $(cat "$T/stderr")"
! grep -q "Success" "$T/stderr" || fail "a message ending in Success"
ok "p11guard: unknown, extra and conflicting arguments are usage errors (2) saying what to do"

[ "$(exit_of "$AGENT" -Z)" = 1 ] && grep -q "^usage: p11guard-agent" "$T/stderr" ||
	fail "p11guard-agent -Z: not ssh-agent's usage error (exit 1)"
[ "$(exit_of "$AGENT" --help)" = 0 ] && grep -q "^usage: p11guard-agent" "$T/stdout" ||
	fail "p11guard-agent --help"
[ "$(exit_of "$AGENT" -D sh -c true)" = 1 ] || fail "p11guard-agent -D with a command: exit 1"
[ "$(exit_of "$AGENT" --version)" = 0 ] && grep -q "^p11guard-agent [0-9]" "$T/stdout" ||
	fail "p11guard-agent --version"
ok "p11guard-agent: ssh-agent's rules (usage errors exit 1, extra arguments are the command)"

# Completion, as bash-completion loads it.
BC=/usr/share/bash-completion/bash_completion
[ -f "$BC" ] || fail "bash-completion is not installed (scripts/install-deps)"
complete_line() {       # complete_line WORD...: what completing the last word offers
	bash -c '. "$1"; . "$2"; . "$3"; shift 3
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		"$(complete -p "$1" | sed "s/.*-F \([^ ]*\) .*/\1/")" "$1" "${COMP_WORDS[COMP_CWORD]}" \
			"${COMP_WORDS[COMP_CWORD-1]}"
		printf "%s\n" "${COMPREPLY[@]}"' _ "$BC" "$top_srcdir/packaging/bash-completion/p11guard" \
		"$top_builddir/packaging/bash-completion/p11guard-ssh" "$@"
}
complete_line p11guard st > "$T/c1"
grep -qx status "$T/c1" || fail "p11guard st<TAB>: $(cat "$T/c1")"
complete_line p11guard audit --dec > "$T/c2"
grep -qx -- --decision "$T/c2" || fail "p11guard audit --dec<TAB>: $(cat "$T/c2")"
complete_line p11guard audit --decision "" > "$T/c3"
[ "$(sort "$T/c3" | tr '\n' ' ')" = "allow deny hide " ] || fail "--decision <TAB>: $(cat "$T/c3")"
complete_line p11guard-agent --st > "$T/c4"
grep -qx -- --stable "$T/c4" || fail "p11guard-agent --st<TAB>: $(cat "$T/c4")"
complete_line p11guard-ssh --v > "$T/c5"
grep -qx -- --version "$T/c5" || fail "p11guard-ssh --v<TAB>: $(cat "$T/c5")"
complete_line p11guard-ssh -s > "$T/c6"
grep -qx -- -s "$T/c6" || fail "p11guard-ssh -s<TAB>: $(cat "$T/c6")"
ok "bash completion: subcommands and options of p11guard, p11guard-agent and p11guard-ssh"
