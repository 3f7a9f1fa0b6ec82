# Guarded execution handed off (design sections 5 and 6): once the server confirmed the
# command and no-more-sessions, a re-key whose keys only p11guard-ssh knows gives it the
# connection, and the agent steps out. The forwarding probes decide: targets that close
# forwarding (DisableForwarding; authorized_keys restrict) are handed off; a default sshd
# and a PermitListen list fall back to relay, or are refused with fallback: deny.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/guarded-lib.sh"

DELEGATE=$top_builddir/p11guard-ssh
# Test builds (--enable-test-hooks) shorten the handoff's time limit, to test it.
HOOKS=""
if grep -q "define P11GUARD_TEST_HOOKS 1" "$top_builddir/build-config.h"; then
	HOOKS=1
	export P11GUARD_TEST_HANDOFF_SECONDS=4
fi
SSHD_EXTRA="DisableForwarding yes" start_sshd D
SSHD_EXTRA="DisableForwarding yes
RekeyLimit 64K" start_sshd X
SSHD_EXTRA="DisableForwarding yes
ClientAliveInterval 1
ClientAliveCountMax 2" start_sshd K     # keepalives that must be answered
python3 -c "print(('x' * 99 + '\\n') * 2610, end='')" > "$T/banner"   # 261,000 bytes
SSHD_EXTRA="DisableForwarding yes
Banner $T/banner" start_sshd B          # more than 256 KiB before the handoff
start_sshd S                            # the key is restrict,pty there
start_sshd P                            # a default sshd: forwarding on
SSHD_EXTRA="PermitListen 127.0.0.1:1" start_sshd L
start_sshd N                            # a default sshd under a rule with fallback: deny
GUARDED_TARGETS="D X K B S P L N"
GUARDED_RULES_FIRST="    - action: allow
      to: \"[127.0.0.1]:$N_PORT\"
      users: root
      via: i.test
      exec: [ \"echo never\" ]
      mode: handoff
      fallback: deny"
GUARDED_RULE_EXTRA="      mode: handoff"
guarded_setup '[ "echo guarded; echo err >&2; exit 3", cat, "sleep 2; echo after", "true",
                 "sleep 4; echo alive",
                 "head -c 8388608 /dev/urandom | tee /tmp/handoff.sent | sha256sum >&2; cat /tmp/handoff.sent",
                 "echo never" ]'
sed -i 's/^/restrict,pty /' "$T/S.keys"
head -c 9000000 /dev/urandom > "$T/input"

# on TARGET COMMAND [OPTIONS]: p11guard-ssh on the intermediary runs COMMAND on sshd TARGET.
on() { from_i "$DELEGATE ${3:-} -p $(eval echo "\$${1}_PORT") root@127.0.0.1 '$2'"; }
# The mode the audit's last "end" event names for TARGET.
last_end() {
	python3 - "$T/audit.log" "$(eval echo "\$${1}_PORT")" <<'PY'
import json, sys
port = sys.argv[2]
ends = [e for e in map(json.loads, open(sys.argv[1])) if e.get("event") == "end" and
        (e.get("dest_name") or "").endswith("]:" + port)]
e = ends[-1]
print(e.get("mode"), "|", e.get("mode_reason", ""), "|", e.get("probes", ""), "|",
      e.get("outcome"))
PY
}

for target in D S; do
	rc=0
	on "$target" "echo guarded; echo err >&2; exit 3" > "$T/out" 2> "$T/err" || rc=$?
	[ "$rc" = 3 ] && [ "$(cat "$T/out")" = guarded ] && grep -qx err "$T/err" ||
		fail "$target: exit $rc, output $(cat "$T/out"), errors $(cat "$T/err")"
	end=$(last_end "$target")
	case $end in handoff*"local TCP forwarding closed"*"handed off"*) ;;
	*) fail "$target: not handed off: $end" ;; esac
	on "$target" cat < "$T/input" > "$T/out" || fail "$target: cat: $(cat "$T/out")"
	cmp -s "$T/input" "$T/out" || fail "$target: 9 MB through cat came back different"
done
grep -q "guarded session [0-9a-f]\{16\} to .* handed off: the delegate carries" "$T/agent.log" ||
	fail "no 'handed off' line in the agent's log"
ok "DisableForwarding and restrict,pty: probed closed, handed off; exit status, stderr, 9 MB each way"

# After the takeover the server re-keys every 64 KiB and so do we (ssh's RekeyLimit).
on X "head -c 8388608 /dev/urandom | tee /tmp/handoff.sent | sha256sum >&2; cat /tmp/handoff.sent" \
	"-o RekeyLimit=64K" > "$T/big" 2> "$T/big.err" || fail "X: 8 MiB: $(cat "$T/big.err")"
want=$(cut -d' ' -f1 "$T/big.err")
got=$(sha256sum < "$T/big" | cut -d' ' -f1)
[ "$(wc -c < "$T/big")" = 8388608 ] && [ "$want" = "$got" ] ||
	fail "X: 8 MiB after the takeover: $(wc -c < "$T/big") bytes, sha256 $got, sent $want"
case $(last_end X) in handoff*) ;; *) fail "X: not handed off: $(last_end X)" ;; esac
ok "8 MiB after the takeover, more than the window, with re-keys every 64 KiB both ways (checksum)"

# A command that ends before the handoff completes (its exit status and CLOSE come inside
# the re-key and are handed over), and sshd's keepalives, which the delegate answers: an
# unanswered pair would end the session after 3 s.
on D true || fail "true, handed off: exit $?"
case $(last_end D) in handoff*"handed off"*) ;; *) fail "true: $(last_end D)" ;; esac
out=$(on K "sleep 4; echo alive") || fail "K: keepalives: $out"
[ "$out" = alive ] || fail "K: keepalives: output $out"
case $(last_end K) in handoff*) ;; *) fail "K: not handed off: $(last_end K)" ;; esac
grep -q "Timeout, client not responding" "$T/sshd-K.log" && fail "K: the keepalives went unanswered"
ok "a command that ends inside the handoff (exit 0); sshd's keepalives answered after it"

rc=0
on B true > "$T/out" 2> "$T/err" || rc=$?
[ "$rc" = 255 ] && grep -q "more than 256 KiB before the handoff" "$T/err" ||
	fail "B: a 261,000-byte banner before the handoff: exit $rc, $(cat "$T/err")"
ok "a server that sends more than 256 KiB before the handoff is aborted with the reason"

# A default sshd: local forwarding on. The session runs relayed, and the audit says why.
for target in P L; do
	rc=0
	out=$(on "$target" "echo guarded; echo err >&2; exit 3" 2>/dev/null) || rc=$?
	[ "$rc" = 3 ] && [ "$out" = guarded ] || fail "$target: exit $rc, output $out"
done
case $(last_end P) in "relay | the server allows forwarding (local TCP forwarding is on) |"*) ;;
*) fail "P: $(last_end P)" ;; esac
case $(last_end L) in relay*"remote TCP forwarding limited to a list"*) ;;
*) fail "L: $(last_end L)" ;; esac
ok "a default sshd and a PermitListen list: probed open or limited, run relayed, the audit says why"

rc=0
on N "echo never" > "$T/out" 2> "$T/err" || rc=$?
[ "$rc" = 255 ] && grep -q "allows forwarding (local TCP forwarding is on) and the rule's fallback is deny" "$T/err" ||
	fail "N: fallback deny: exit $rc, $(cat "$T/err")"
grep -q "Starting session" "$T/sshd-N.log" && fail "N: a session started"
ok "fallback: deny refuses with the reason, and no session starts"

# A malicious delegate once the connection is its own (design section 9): what it sends
# is refused by the server, never run; exactly one session per approved request.
EVIL=$top_builddir/tests/guarded/evil-delegate
evil() {        # evil ATTACK [N]: through D, the approved 'sleep 2; echo after'; exit status
	rc=0
	from_i "EVIL_IDLE_MS=${EVIL_IDLE_MS:-3000} EVIL_MARKER_COMMAND='touch $T/evil-mark' $EVIL $* -p $D_PORT root@127.0.0.1 'sleep 2; echo after'" \
		> "$T/evil.out" 2> "$T/evil.err" || rc=$?
	echo "$rc"
}
d_sessions() { grep -c "Starting session" "$T/sshd-D.log" || true; }
before=$(d_sessions)
evil handoff-session > /dev/null
grep -q "attempt to open a session after additional sessions disabled" "$T/sshd-D.log" ||
	fail "a second session after the handoff: not refused: $(cat "$T/evil.err")"
[ "$(d_sessions)" = $((before + 1)) ] || fail "a second session after the handoff started"
before=$(d_sessions)
[ "$(evil handoff-requests)" = 0 ] && [ "$(cat "$T/evil.out")" = after ] ||
	fail "exec/shell/subsystem/env/pty after the handoff: $(cat "$T/evil.err")"
[ ! -e "$T/evil-mark" ] || fail "an exec after the handoff ran"
grep -q "subsystem request" "$T/sshd-D.log" && fail "a subsystem after the handoff was started"
[ "$(d_sessions)" = $((before + 1)) ] || fail "requests after the handoff started a session"
listen_port=$(free_port)
python3 -c "
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', $listen_port)); s.listen(1); s.settimeout(8)
try:
    s.accept(); open('$T/forwarded', 'w').write('connected')
except socket.timeout:
    pass" &
listener=$!
sleep 0.3
evil handoff-forward "$listen_port" > /dev/null
wait "$listener"
[ ! -e "$T/forwarded" ] || fail "a direct-tcpip after the handoff reached the listener"
[ ! -e /tmp/p11guard-evil-listen.sock ] || fail "a streamlocal-forward after the handoff listened"
grep -q "refused local port forward: .*port $listen_port" "$T/sshd-D.log" &&
	grep -q "refused streamlocal port forward" "$T/sshd-D.log" ||
	fail "the forwardings after the handoff are not in D's log as refused"
ok "after the handoff: a second session disconnected; exec, shell, subsystem, env, pty ignored; direct-tcpip, streamlocal, tcpip-forward refused; one session each"

# Frames out of place, and a handoff that never comes (the limit, shortened for the test).
[ "$(evil handoff-share-early)" = 255 ] && grep -q "KEX_SHARE frame out of place" "$T/evil.err" ||
	fail "KEX_SHARE before KEX_START: $(cat "$T/evil.err")"
if [ -n "$HOOKS" ]; then
	[ "$(EVIL_IDLE_MS=9000; evil handoff-stall)" = 255 ] &&
		grep -q "no handoff within 4 s" "$T/evil.err" ||
		fail "a delegate that never takes the handoff: $(cat "$T/evil.err")"
	grep -q '"outcome":"aborted: no handoff within 4 s' "$T/audit.log" ||
		fail "the audit does not show the handoff's time limit"
fi
ok "a KEX_SHARE before KEX_START aborts; ${HOOKS:+a handoff not taken within the limit aborts, audited}"

# The delegate can make a valid session-bind for the session: the first exchange's host key
# and signature pass it in the clear, and KEX_START names the session id. Refused.
[ "$(evil handoff-bind)" = 0 ] && grep -q "session-bind refused" "$T/evil.err" &&
	grep -q "refused session-bind@openssh.com .*: session-bind to a guarded session's id" \
		"$T/agent.log" || fail "a session-bind to the guarded session: $(cat "$T/evil.err")"
ok "a session-bind carrying the running guarded session's id is refused, and the session goes on"

# The handed-off sessions' ids stay refused after they ended.
sid=$(sed -n 's/.*guarded session [0-9a-f]*: SSH session id \([0-9a-f]*\)$/\1/p' "$T/agent.log" | head -1)
sign_for_session "$sid" "an ended, handed-off session"
ok "a sign request carrying an ended, handed-off session's id is refused"

# The agent is not needed after the handoff: killed right after the line, the output comes.
before=$(grep -c "handed off: the delegate" "$T/agent.log")
from_i "$DELEGATE -p $D_PORT root@127.0.0.1 'sleep 2; echo after'" > "$T/late" 2> "$T/late.err" &
late=$!
wait_for 20 sh -c "[ \$(grep -c 'handed off: the delegate' '$T/agent.log') -gt $before ]" ||
	fail "no handoff for the late command"
kill "$AGENT_PID"
wait "$late" || fail "the command's end after the agent was killed: $(cat "$T/late.err")"
[ "$(cat "$T/late")" = after ] || fail "after the agent was killed: output $(cat "$T/late")"
ok "the agent killed right after the handoff: the command's output still arrives"
