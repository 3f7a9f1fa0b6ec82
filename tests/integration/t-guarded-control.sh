# Guarded sessions and the agent's controls: a confirmation that names intermediary, server,
# user, key and the exact command; a locked agent refuses; a reload applies to new requests
# while a running session goes on.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/guarded-lib.sh"

DELEGATE=$top_builddir/p11guard-ssh
GUARDED_RULES='    - action: allow                     # this one asks first
      to: "[127.0.0.1]:*"
      users: root
      via: i.test
      exec: [ "echo confirmed" ]
      confirm: always'
guarded_setup '[ "exec sleep 3", "echo plain" ]'
make_confirm_askpass

out=$(from_i "$DELEGATE -p $T_PORT root@127.0.0.1 'echo confirmed'") || fail "confirmed: $out"
[ "$out" = confirmed ] || fail "confirmed: \"$out\""
i_fp=$(ssh-keygen -lf "$T/sshd-I/hostkey.pub" | cut -d' ' -f2)
k_fp=$(ssh-keygen -lf "$T/pub/ed25519.pub" | cut -d' ' -f2)
for want in "Command: echo confirmed" "Server: \[127.0.0.1\]:$T_PORT" "User: root" \
	"Through: i.test ($i_fp)" "Key: $k_fp"; do
	grep -q "$want" "$T/confirm.last" || fail "the prompt lacks \"$want\": $(cat "$T/confirm.last")"
done
echo no > "$T/confirm.mode"
before=$(t_connections)
rc=0
from_i "$DELEGATE -p $T_PORT root@127.0.0.1 'echo confirmed'" > /dev/null 2> "$T/err" || rc=$?
[ "$rc" = 255 ] && grep -q "the agent refused: .*declined" "$T/err" || fail "declined: $(cat "$T/err")"
[ "$(t_connections)" = "$before" ] || fail "T saw a connection for a declined request"
[ "$(wc -l < "$T/confirm.count")" = 2 ] || fail "prompts: $(wc -l < "$T/confirm.count")"
out=$(from_i "$DELEGATE -p $T_PORT root@127.0.0.1 'echo plain'") && [ "$out" = plain ] ||
	fail "a rule without confirm: $out"
[ "$(wc -l < "$T/confirm.count")" = 2 ] || fail "a rule without confirm asked"
ok "confirm: the prompt names command, server, user, hop and key; a decline refuses before any connection"

# A reload: the running session goes on, a new request follows the new policy.
from_i "$DELEGATE -p $T_PORT root@127.0.0.1 'exec sleep 3'" > /dev/null 2> "$T/running.err" &
running=$!
wait_for 10 grep -q 'exec sleep 3.*accepted\|accepted.*exec sleep 3' "$T/agent.log" ||
	fail "the long session did not start"
sed -i 's/exec: \[ "exec sleep 3", "echo plain" \]/exec: [ "echo plain" ]/' "$T/config.yaml"
grep -q 'exec: \[ "echo plain" \]' "$T/config.yaml" || fail "the policy was not edited"
policies() { grep -c "policy in force" "$T/agent.log" || true; }
before=$(policies)
"$CLI" reload > "$T/reload.out" 2>&1 || fail "p11guard reload: $(cat "$T/reload.out")"
reloaded() { [ "$(policies)" -gt "$before" ]; }
wait_for 10 reloaded || fail "the agent did not take the new policy"
rc=0
from_i "$DELEGATE -p $T_PORT root@127.0.0.1 'exec sleep 3'" > /dev/null 2> "$T/err" || rc=$?
[ "$rc" = 255 ] && grep -q "no guarded rule allows" "$T/err" || fail "after reload: $(cat "$T/err")"
wait "$running" || fail "the running session ended with the reload: $(cat "$T/running.err")"
ok "a reload applies to new requests; the running session goes on"

# Locked: refused before the policy is asked (here from this machine: no hop can log in).
make_askpass lock-pass
ssh-add -x || fail "ssh-add -x"
rc=0
"$DELEGATE" -p "$T_PORT" root@127.0.0.1 'echo plain' > /dev/null 2> "$T/err" || rc=$?
[ "$rc" = 255 ] && grep -q "the agent refused: .*locked" "$T/err" || fail "locked: $(cat "$T/err")"
ok "a locked agent refuses guarded requests and says so"
