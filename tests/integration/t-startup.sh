# A start-up that fails, fails loudly: non-zero exit, the reason on stderr and nothing on
# stdout for `eval`, whether the agent daemonizes, runs a command or stays in the
# foreground. A start that succeeds prints the environment only once the agent serves.
# --stable: the one path the systemd units use.
. "$(dirname "$0")/lib.sh"

make_token t1 ed25519
make_askpass "$PIN"
export HOME="$T/home"
mkdir -m 700 "$HOME"
unset SSH_AUTH_SOCK SSH_AGENT_PID

# The audit file's directory cannot be made (a file is in its way): no trail can be kept.
write_config "$T/noaudit.yaml" t1
printf 'audit:\n  file: %s/in-the-way/dir/audit.log\n' "$T" >> "$T/noaudit.yaml"
: > "$T/in-the-way"

expect_loud_failure() {         # expect_loud_failure WHAT ARGS...: the agent must fail loudly
	what=$1; shift
	"$AGENT" "$@" > "$T/out" 2> "$T/err" && fail "$what: exit status 0"
	[ ! -s "$T/out" ] || fail "$what: printed for eval: $(cat "$T/out")"
	grep -q "p11guard-agent: .*$EXPECT" "$T/err" || fail "$what: stderr: $(cat "$T/err")"
}
EXPECT="in-the-way/dir/audit.log: cannot make $T/in-the-way/dir"
expect_loud_failure "daemon, unusable audit path" -s --config "$T/noaudit.yaml"
expect_loud_failure "command mode, unusable audit path" --config "$T/noaudit.yaml" \
	sh -c 'echo the command ran'
expect_loud_failure "-D, unusable audit path" -D -a "$T/d.sock" --config "$T/noaudit.yaml"
[ ! -e "$T/d.sock" ] || fail "the socket of a failed start was left behind"
EXPECT="bind $T/no/such/dir/agent.sock"
write_config "$T/config.yaml" t1
expect_loud_failure "socket cannot be bound" -s -a "$T/no/such/dir/agent.sock" \
	--config "$T/config.yaml"
ok "failed starts (audit path, socket): non-zero exit, reason on stderr, nothing to eval"

# A successful start: the environment is printed once the agent serves, so the first
# client call right after eval succeeds without waiting.
eval "$("$AGENT" -s -a "$T/agent.sock" --config "$T/config.yaml")" > /dev/null
PIDS="$PIDS $SSH_AGENT_PID"
ssh-add -l | grep -q ED25519 || fail "the first ssh-add right after eval was not served"
"$AGENT" -k > /dev/null
ok "the environment comes once the agent serves"

# --stable
unset XDG_RUNTIME_DIR
EXPECT="--stable needs XDG_RUNTIME_DIR"
expect_loud_failure "--stable without XDG_RUNTIME_DIR" -s --stable --config "$T/config.yaml"
export XDG_RUNTIME_DIR="$T/run"
mkdir -m 700 "$XDG_RUNTIME_DIR"
eval "$("$AGENT" -s --stable --config "$T/config.yaml")" > /dev/null
PIDS="$PIDS $SSH_AGENT_PID"
[ "$SSH_AUTH_SOCK" = "$XDG_RUNTIME_DIR/p11guard/agent.sock" ] ||
	fail "--stable socket is $SSH_AUTH_SOCK"
[ "$(stat -c %a "$XDG_RUNTIME_DIR/p11guard")" = 700 ] || fail "--stable directory not 0700"
ssh-add -l | grep -q ED25519 || fail "the --stable agent does not serve"
FIRST=$SSH_AGENT_PID
EXPECT="agent.sock is in use: an agent already serves there"
expect_loud_failure "a second --stable agent" -s --stable --config "$T/config.yaml"
ssh-add -l | grep -q ED25519 || fail "the first agent stopped serving"
kill -9 "$FIRST"
wait_for 5 sh -c "! kill -0 $FIRST 2>/dev/null"
[ -S "$SSH_AUTH_SOCK" ] || fail "no stale socket left to replace (test set-up)"
eval "$("$AGENT" -s --stable --config "$T/config.yaml")" > /dev/null
PIDS="$PIDS $SSH_AGENT_PID"
ssh-add -l | grep -q ED25519 || fail "the agent that replaced a stale --stable socket"
EXPECT="give one"
expect_loud_failure "--stable with -a" --stable -a "$T/x.sock" --config "$T/config.yaml"
ok "--stable: \$XDG_RUNTIME_DIR/p11guard/agent.sock, refused while in use, stale replaced"

# No configuration file: the built-in one serves the demo token where scripts/demo makes it,
# without SOFTHSM2_CONF (which only the demo script used to set).
export XDG_DATA_HOME="$T/data" XDG_CONFIG_HOME="$T/noconfig"
"$top_srcdir/softhsm-fixtures/make-token" "$XDG_DATA_HOME/p11guard/demo" p11guard-demo p256 \
	> /dev/null || fail "making the demo token"
unset SOFTHSM2_CONF
eval "$("$AGENT" -s -a "$T/demo.sock")" > /dev/null
PIDS="$PIDS $SSH_AGENT_PID"
ssh-add -l | grep -q "p11guard-demo" || fail "the built-in config did not find the demo token"
ok "no config file and no SOFTHSM2_CONF: the built-in config serves the demo token"
