# Policy files: precise errors, an agent that refuses a bad file, reload that keeps the old
# rules when the new file is broken, p11guard reload, and audit log reopening.
. "$(dirname "$0")/lib.sh"

make_token t1 p256
make_askpass "$PIN"
start_sshd A
echo "a.test,[127.0.0.1]:$A_PORT $(cut -d' ' -f1,2 "$T/sshd-A/hostkey.pub")" > "$T/kh"

# policy_file FILE RULES...: the token, an audit file and a policy with the given rule text.
policy_file() {
	f=$1; shift
	write_config "$f" t1
	printf 'audit:\n  file: %s\npolicy:\n  known_hosts: [ "%s" ]\n  default: deny\n' \
		"$T/audit.log" "$T/kh" >> "$f"
	printf '%s\n' "$@" >> "$f"
}
policy_file "$T/good.yaml" "  rules:" "    - action: allow" "      keys: t1" "      to: a.test"
policy_file "$T/deny.yaml" "  rules:" "    - action: allow" "      keys: t1" "      to: nowhere.test"

# bad NAME EXPECTED-MESSAGE RULE-LINES...: check and the agent both refuse, at a position.
bad() {
	name=$1; want=$2; shift 2
	policy_file "$T/$name.yaml" "$@"
	"$CLI" policy check "$T/$name.yaml" > "$T/$name.out" 2>&1 &&
		fail "policy check accepted $name"
	grep -q "^p11guard: $T/$name.yaml:[0-9]*:[0-9]*: .*$want" "$T/$name.out" ||
		fail "policy check on $name said: $(cat "$T/$name.out")"
	"$AGENT" -d -a "$T/bad.sock" --config "$T/$name.yaml" > "$T/$name.agent" 2>&1 &&
		fail "the agent started with $name"
	grep -q "$T/$name.yaml:[0-9]*:[0-9]*: .*$want" "$T/$name.agent" ||
		fail "the agent's refusal of $name: $(cat "$T/$name.agent")"
	[ ! -e "$T/bad.sock" ] || fail "the agent left a socket for $name"
}
bad indent "mapping values are not allowed\|did not find expected" \
	"  rules:" "    - action: allow" "     keys: t1"
bad unknown 'unknown key "destination" in a rule' \
	"  rules:" "    - action: allow" "      destination: a.test"
bad type "expected a list for rules" "  rules: allow"
bad action "expected allow or deny for action" "  rules:" "    - action: permit"
ok "malformed files (indentation, unknown key, wrong type) name file:line:column; the agent refuses them"

policy_file "$T/warn.yaml" "  rules:" "    - action: allow" "      keys: nosuchtoken" \
	"      to: nowhere.test"
"$CLI" policy check "$T/warn.yaml" > "$T/warn.out" || fail "warnings made check fail"
grep -q "warn.yaml:[0-9]*:[0-9]*: warning: host \"nowhere.test\" is in no known_hosts" \
	"$T/warn.out" || fail "no warning for an unknown host: $(cat "$T/warn.out")"
grep -q "warning: key selector \"nosuchtoken\" names no configured token" "$T/warn.out" ||
	fail "no warning for an unknown token: $(cat "$T/warn.out")"
ok "policy check warns about rules that can never match"

cp "$T/good.yaml" "$T/config.yaml"
start_agent --config "$T/config.yaml"
pubkeys_from_tokens "$T/config.yaml"
cat "$T/pub/p256.pub" >> "$T/A.keys"
login() { ssh_run "$A_PORT" "$T/pub/p256.pub" root@127.0.0.1 true 2>/dev/null; }
login || fail "login with the good policy"

cp "$T/indent.yaml" "$T/config.yaml"
kill -HUP "$AGENT_PID"
wait_for 5 grep -q "reload failed" "$T/agent.log" || fail "broken reload not reported"
grep "reload failed" "$T/agent.log" | grep -q "config.yaml:[0-9]*:[0-9]*:" ||
	fail "reload error has no position"
login || fail "the old rules were dropped after a broken reload"
ok "SIGHUP with a broken file keeps the old rules and logs file:line:column"

cp "$T/deny.yaml" "$T/config.yaml"
kill -HUP "$AGENT_PID"
wait_for 5 sh -c "grep -c 'policy in force' '$T/agent.log' | grep -q 2" || fail "reload not applied"
login && fail "the new rules were not applied by SIGHUP"
ok "SIGHUP with a good file applies it"

cp "$T/good.yaml" "$T/config.yaml"
"$CLI" reload || fail "p11guard reload"
login || fail "p11guard reload did not apply the good file"
cp "$T/type.yaml" "$T/config.yaml"
"$CLI" reload 2> "$T/reload.err" && fail "p11guard reload accepted a broken file"
grep -q "the agent refused: .*config.yaml:[0-9]*:[0-9]*: expected a list" "$T/reload.err" ||
	fail "p11guard reload did not show the agent's reason: $(cat "$T/reload.err")"
login || fail "old rules lost after p11guard reload of a broken file"
ok "p11guard reload applies a good file, and shows why a broken one was refused"

cp "$T/good.yaml" "$T/config.yaml"
mv "$T/audit.log" "$T/audit.log.1"
kill -HUP "$AGENT_PID"
wait_for 5 sh -c "grep -c 'policy in force' '$T/agent.log' | grep -q 4" || fail "reload not applied"
login || fail "login after rotation"
grep -q '"decision":"allow"' "$T/audit.log" || fail "audit log not reopened on SIGHUP"
ok "the audit log is reopened on SIGHUP"
