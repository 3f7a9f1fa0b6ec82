# A malicious delegate (design section 9, before any handoff): on the intermediary, instead
# of p11guard-ssh, tests/guarded/evil-delegate runs p11guard-ssh's own relay with a tamper
# hook. Whatever it does to the bytes or the frames, the approved command never runs from
# tampered bytes and no other command runs at all: each attack is observed in the target
# sshd's log and with the marker file the command would create.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/guarded-lib.sh"

EVIL=$top_builddir/tests/guarded/evil-delegate
MARK=$T/marker
guarded_setup "[ \"echo ran >> $MARK\", \"exec sleep 4\" ]"
SSHD_EXTRA="" start_sshd O              # another server, with a host key the agent does not know

# evil ATTACK [N]: the approved command through the malicious delegate; its exit status.
evil() {
	rc=0
	from_i "$EVIL $* -p $T_PORT root@127.0.0.1 'echo ran >> $MARK'" \
		> "$T/evil.out" 2> "$T/evil.err" || rc=$?
	echo "$rc"
}
marks() { [ -f "$MARK" ] && wc -l < "$MARK" || echo 0; }

# Calibration: the smallest count of TO_SERVER payloads with which the command runs. Each
# of those payloads must reach the server intact for it to run.
n=0
while [ "$(marks)" = 0 ]; do
	[ "$n" -lt 30 ] || fail "the command never ran through the relay"
	[ "$(evil drop-from "$n")" = 255 ] || [ "$(marks)" != 0 ] ||
		fail "drop-from $n: not a failure: $(cat "$T/evil.err")"
	n=$((n + 1))
done
needed=$((n - 1))
[ "$needed" -ge 3 ] || fail "the command ran after $needed payloads"
ok "dropping or withholding any payload up to the exec packet (the first $needed): nothing runs"

sessions=$(t_sessions)
rm -f "$MARK"
for k in $(seq 0 $((needed - 1))); do
	[ "$(evil flip-to "$k")" = 255 ] || fail "flip-to $k: exit $(cat "$T/evil.err")"
	[ "$(marks)" = 0 ] || fail "flip-to $k: the command ran from tampered bytes"
	[ "$(evil inject-to "$k")" = 255 ] || fail "inject-to $k: exit $(cat "$T/evil.err")"
	[ "$(marks)" = 0 ] || fail "inject-to $k: the command ran with an injected packet"
done
[ "$(t_sessions)" = "$sessions" ] || fail "T started a session for tampered bytes"
grep -q "strict KEX\|incorrect\|Bad packet length\|Corrupted MAC\|message authentication code" \
	"$T/sshd-T.log" || fail "T's log shows no integrity failure"
ok "a flipped or injected byte in any payload up to the exec packet: the connection dies, nothing runs"

for k in 0 1 2 3; do
	[ "$(evil flip-from "$k")" = 255 ] || fail "flip-from $k: $(cat "$T/evil.err")"
	grep -q "p11guard-ssh: " "$T/evil.err" || fail "flip-from $k: no abort reason"
done
[ "$(marks)" = 0 ] || fail "the command ran after the server's bytes were tampered with"
ok "a flipped byte from the server: the agent aborts with a reason, nothing runs"

before=$(grep -c "Accepted\|Postponed" "$T/sshd-O.log" || true)
[ "$(evil other-port "$O_PORT")" = 255 ] || fail "another server: $(cat "$T/evil.err")"
grep -q "host key" "$T/evil.err" || fail "another server: no host key reason: $(cat "$T/evil.err")"
[ "$(grep -c "Accepted\|Postponed" "$T/sshd-O.log" || true)" = "$before" ] ||
	fail "the agent offered a key to another server"
ok "another server than requested: host key mismatch, no key offered"

for attack in connected-twice stdin-first agent-frame bad-length server-closed-early; do
	[ "$(evil "$attack")" = 255 ] || fail "$attack: exit: $(cat "$T/evil.err")"
	grep -q "p11guard-ssh: .*\(frame\|CONNECTED\|closed before\)" "$T/evil.err" ||
		fail "$attack: no abort reason: $(cat "$T/evil.err")"
done
[ "$(marks)" = 0 ] || fail "the command ran after frames out of order"
ok "frames out of order, twice, of the agent's kind or malformed: abort with the reason"

# Replay: a recorded clean session's bytes on a new connection.
[ "$(evil record "$T/recorded")" = 0 ] && [ "$(marks)" = 1 ] ||
	fail "the recorded session did not run: $(cat "$T/evil.err")"
sessions=$(t_sessions)
from_i "$EVIL replay $T/recorded -p $T_PORT root@127.0.0.1 x" > /dev/null 2>&1 || true
[ "$(marks)" = 1 ] || fail "the replay ran the command again"
[ "$(t_sessions)" = "$sessions" ] || fail "the replay started a session"
ok "a replayed session on a new connection: no second session, no second run"

# The session's own id: a signature or a binding for it is the agent's alone. (The delegate
# cannot compute the exchange hash; the test reads it from the agent's debug log.)
ids() { grep -c "guarded session [0-9a-f]*: SSH session id" "$T/agent.log" || true; }
before=$(ids)
from_i "$top_builddir/p11guard-ssh -p $T_PORT root@127.0.0.1 'exec sleep 4'" > /dev/null 2>&1 &
running=$!
new_id() { [ "$(ids)" -gt "$before" ]; }
wait_for 10 new_id || fail "no session id in the agent's log"
sid=$(sed -n 's/.*guarded session [0-9a-f]*: SSH session id \([0-9a-f]*\)$/\1/p' "$T/agent.log" | tail -1)
sign_for_session "$sid" "the running guarded session"
wait "$running" || fail "the guarded session itself failed"
ok "a sign request carrying a running guarded session's id is refused with the reason"
