# Guarded execution's test bench, after lib.sh: the user's agent with a token key, an
# intermediary sshd I (i.test in the policy) and a target sshd T, the user's ssh -A to I.
# The tests then run p11guard-ssh (or the malicious delegate) there with from_i.

# guarded_setup EXEC-LIST [ENV-LIST]: the agent with a policy that allows signing to I and,
# through I only, the EXEC-LIST commands (YAML flow list) as root on the targets, passing
# ENV-LIST on. The targets are the sshds named in $GUARDED_TARGETS, which the caller started
# (each with its own SSHD_* settings); by default T, started here. Further hops: the sshds
# of $GUARDED_HOPS (J: j.test), with more signing rules in $GUARDED_SIGN_RULES and more
# guarded rules in $GUARDED_RULES (YAML list items); $GUARDED_RULES_FIRST come before the
# main guarded rule, and $GUARDED_RULE_EXTRA adds settings to it (e.g. "mode: handoff").
guarded_setup() {
	make_token t1 ed25519
	make_askpass "$PIN"
	chmod 755 "$T"
	SSHD_HOSTKEY_ARGS="" SSHD_EXTRA="" SSHD_ALL_EXTRA="" start_sshd I
	[ -n "${GUARDED_TARGETS:-}" ] || { GUARDED_TARGETS=T; start_sshd T; }
	known_hosts_line I i.test > "$T/policy_known_hosts"
	for h in ${GUARDED_HOPS:-}; do known_hosts_line "$h" "$(echo "$h" | tr A-Z a-z).test"; done \
		>> "$T/policy_known_hosts"
	to=""
	for t in $GUARDED_TARGETS; do
		port=$(eval echo "\$${t}_PORT")
		echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$T/sshd-$t/hostkey.pub")" \
			>> "$T/policy_known_hosts"
		to="$to${to:+, }\"[127.0.0.1]:$port\""
	done
	write_config "$T/config.yaml" t1
	cat >> "$T/config.yaml" <<CFG
audit:
  file: "$T/audit.log"
policy:
  known_hosts: [ "$T/policy_known_hosts" ]
  default: deny
  rules:
    - action: allow                     # logging in to the intermediary, from here
      to: i.test
${GUARDED_SIGN_RULES:-}
  guarded:
${GUARDED_RULES_FIRST:-}
    - action: allow                     # and, from there, these commands on the targets only
      to: [ $to ]
      users: root
      via: i.test
      exec: $1
      env: ${2:-[]}
${GUARDED_RULE_EXTRA:-}
${GUARDED_RULES:-}
CFG
	# GUARDED_HANDOFF: every guarded rule hands its sessions off (the targets then need
	# forwarding closed, e.g. SSHD_ALL_EXTRA="DisableForwarding yes").
	[ -z "${GUARDED_HANDOFF:-}" ] ||
		sed -i '/^  guarded:/,$ { /^    - action:/a\      mode: handoff
}' "$T/config.yaml"
	start_agent --config "$T/config.yaml"
	pubkeys_from_tokens "$T/config.yaml"
	for h in I ${GUARDED_HOPS:-}; do cat "$T/pub/ed25519.pub" >> "$T/$h.keys"; done
	# GUARDED_KEY_OPTIONS: authorized_keys options for the key on the targets ("restrict").
	for t in $GUARDED_TARGETS; do
		echo "${GUARDED_KEY_OPTIONS:+$GUARDED_KEY_OPTIONS }$(cat "$T/pub/ed25519.pub")" >> "$T/$t.keys"
	done
	"$CLI" policy check "$T/config.yaml" > "$T/check.out" ||
		fail "policy check: $(cat "$T/check.out")"
}

# from_i COMMAND: COMMAND runs on the intermediary, with the user's agent forwarded there.
from_i() { ssh_run "$I_PORT" "$T/pub/ed25519.pub" -A root@127.0.0.1 "$1"; }
# How many connections T has seen, and how many sessions it started.
t_connections() { grep -c "^Connection from" "$T/sshd-T.log" || true; }
t_sessions() { grep -c "Starting session" "$T/sshd-T.log" || true; }

# Every guarded session that ended was handed off (GUARDED_HANDOFF runs), and there were some.
guarded_all_handed_off() {
	python3 - "$T/audit.log" <<'PY' || fail "not every session was handed off"
import json, sys
ends = [e for e in map(json.loads, open(sys.argv[1])) if e.get("event") == "end"]
relayed = [e for e in ends if e.get("mode") != "handoff"]
for e in relayed:
    print("relayed:", e.get("command"), e.get("mode_reason"), e.get("outcome"))
sys.exit(1 if relayed or not ends else 0)
PY
	ok "all $(grep -c '"event":"end"' "$T/audit.log") guarded sessions were handed off"
}

# sign_for_session SID WHAT: the malicious delegate asks for a login signature carrying the SSH
# session id SID; the agent must refuse it, saying why.
sign_for_session() {
	rc=0
	from_i "$top_builddir/tests/guarded/evil-delegate sign-sid $1,$T/pub/ed25519.pub -p 1 root@127.0.0.1 x" \
		> "$T/evil.out" 2> "$T/evil.err" || rc=$?
	[ "$rc" = 255 ] && ! grep -q signed "$T/evil.out" &&
		grep -q "refused sign .*: a signature for a guarded session" "$T/agent.log" ||
		fail "a signature for $2's id: exit $rc, $(cat "$T/evil.err") $(cat "$T/evil.out")"
}
