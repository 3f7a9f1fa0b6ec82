# p11guard status and p11guard why against a running agent: what is served (config, policy,
# tokens present or missing, PIN state, lock) as text and as JSON; the last refusals of a
# stock ssh, newest first, each with its reason and deciding rule (or default: deny), with
# filters; a desktop notice per refusal when `notify: refusals: true`.
. "$(dirname "$0")/lib.sh"

make_token t1 p256 ed25519
make_askpass "$PIN"
chmod 755 "$T"
start_sshd A
start_sshd B                            # not in the policy's known_hosts: no rule names it
known_hosts_line A a.test > "$T/policy_known_hosts"
cat > "$T/notifier" <<NOTE
#!/bin/sh
printf '%s|%s\n' "\$1" "\$2" >> "$T/notices"
NOTE
chmod +x "$T/notifier"

write_config "$T/config.yaml" t1
cat >> "$T/config.yaml" <<CFG
  - name: absent
    module: $(softhsm_module)
    uri: "pkcs11:token=no-such-token"
    pin: askpass
notify: { refusals: true, command: $T/notifier }
policy:
  known_hosts: [ "$T/policy_known_hosts" ]
  rules:
    - action: allow                     # P256 to A
      keys: "pkcs11:object=p256"
      to: a.test
    - action: deny                      # ED25519 never to A
      keys: "pkcs11:object=ed25519"
      to: a.test
  default: deny
CFG
line_of() { grep -n "$1" "$T/config.yaml" | head -1 | cut -d: -f1; }
DENY_RULE=$T/config.yaml:$(line_of "ED25519 never")
DEFAULT=$T/config.yaml:$(line_of "default: deny")

start_agent --config "$T/config.yaml"
pubkeys_from_tokens "$T/config.yaml"
cat "$T/pub/p256.pub" "$T/pub/ed25519.pub" >> "$T/A.keys"
cat "$T/pub/p256.pub" >> "$T/B.keys"

# Before any login: the status, as text.
"$CLI" status > "$T/status.txt" || fail "p11guard status: $(cat "$T/status.txt")"
for label in "agent:   pid $AGENT_PID, socket $SSH_AUTH_SOCK" "config:  $T/config.yaml, loaded" \
	"policy:  $T/config.yaml, 2 rule(s)" "  t1: present (\"t1\"), PIN not cached, PIN tries ok" \
	"  absent: missing" "locked:  no" "guarded sessions: none running"; do
	grep -qF "$label" "$T/status.txt" || fail "status lacks \"$label\": $(cat "$T/status.txt")"
done
ok "status (text): pid and socket, config, policy, each token present or missing, lock, guarded sessions"

ssh_run "$A_PORT" "$T/pub/p256.pub" root@127.0.0.1 true || fail "the allowed login failed"
ssh_run "$A_PORT" "$T/pub/ed25519.pub" root@127.0.0.1 true 2>/dev/null &&
	fail "a login the deny rule forbids"
ssh_run "$B_PORT" "$T/pub/p256.pub" root@127.0.0.1 true 2>/dev/null &&
	fail "a login the default forbids"      # P256 to B: no rule allows it

# A key the policy does not allow to a host is hidden from ssh's key list there, so ssh never
# offers it: that is the refusal the user sees, and `why` shows it.
"$CLI" why > "$T/why.txt" || fail "p11guard why: $(cat "$T/why.txt")"
[ "$(grep -c " list refused, pid" "$T/why.txt")" = 4 ] ||
	fail "not the 4 hidden keys of the 3 logins: $(cat "$T/why.txt")"
# Newest first: the login to B (no rule names B: the default), then those to A (the rule).
first=$(grep -m1 "  rule:" "$T/why.txt")
[ "$first" = "  rule:    default: deny ($DEFAULT)" ] || fail "newest refusal's rule: $first"
[ "$(grep -cF "  rule:    $DENY_RULE" "$T/why.txt")" = 2 ] ||
	fail "the deny rule is not named twice: $(cat "$T/why.txt")"
grep -qF "  to:      a.test" "$T/why.txt" || fail "no destination: $(cat "$T/why.txt")"
grep -q "  reason:  hidden from the key list: no rule allows key" "$T/why.txt" ||
	fail "no reason: $(cat "$T/why.txt")"
grep -q "  key:     SHA256:.* (ed25519)" "$T/why.txt" || fail "no key label"
ok "why: the keys ssh could not offer, newest first, with destination, reason and rule"

"$CLI" why --key ed25519 > "$T/why-key.txt"
[ "$(grep -c "refused, pid" "$T/why-key.txt")" = 3 ] || fail "--key ed25519: $(cat "$T/why-key.txt")"
"$CLI" why --key ed25519 --to a.test > "$T/why-both.txt"
[ "$(grep -c "refused, pid" "$T/why-both.txt")" = 2 ] ||
	fail "--key ed25519 --to a.test: $(cat "$T/why-both.txt")"
"$CLI" why --to nowhere.test > "$T/why-none.txt"
grep -q "no refusals remembered" "$T/why-none.txt" || fail "--to filter: $(cat "$T/why-none.txt")"

"$CLI" why --json > "$T/why.json"
python3 - "$T/why.json" "$DENY_RULE" <<'PY' || fail "why --json: $(cat "$T/why.json")"
import json, sys
rows = json.load(open(sys.argv[1]))
assert len(rows) == 4, rows
assert rows[0]["rule"].startswith("default: deny (") and rows[0]["request"] == "list", rows[0]
assert [r["rule"] for r in rows[2:]] == [sys.argv[2]] * 2, rows
for r in rows:
    assert set(r) == {"time", "request", "pid", "uid", "key", "key_label", "destination",
                      "rule", "reason"}, r
PY
ok "why --key and --to filter; why --json has the same fields"

wait_for 5 sh -c "[ \$(grep -c 'p11guard refused a request|list with' '$T/notices' 2>/dev/null) -ge 4 ]" ||
	fail "no notice per refusal: $(cat "$T/notices" 2>/dev/null)"
grep -q "list with ed25519 to a.test: hidden from the key list" "$T/notices" ||
	fail "notice text: $(cat "$T/notices")"
ok "notify refusals: a notice per refusal, naming key, destination and reason"

"$CLI" status --json > "$T/status.json" || fail "status --json"
python3 - "$T/status.json" "$AGENT_PID" <<'PY' || fail "status --json: $(cat "$T/status.json")"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["pid"] == int(sys.argv[2]) and s["locked"] is False and s["guarded_sessions"] == []
assert s["config"]["last_reload_error"] is None and s["policy"]["rules"] == 2
t = {x["name"]: x for x in s["tokens"]}
assert t["t1"]["present"] and t["t1"]["pin"] == "cached" and t["t1"]["pin_tries"] == "ok", t
assert t["absent"]["present"] is False and t["absent"]["pin"] is None, t
PY
ok "status --json: the same names; the PIN is cached after the login"

printf 'tokens:\n  - name: x\n    colour: red\n' > "$T/broken.yaml"
cp "$T/config.yaml" "$T/good.yaml"
cp "$T/broken.yaml" "$T/config.yaml"
"$CLI" reload > /dev/null 2>&1 && fail "a broken config reloaded"
ssh-add -x < /dev/null > /dev/null 2>&1 || fail "ssh-add -x (the askpass gives the password)"
"$CLI" status > "$T/status2.txt"
grep -q "last reload failed: .*config.yaml:3:5: unknown key \"colour\"" "$T/status2.txt" ||
	fail "status does not show the failed reload: $(cat "$T/status2.txt")"
grep -qx "locked:  yes" "$T/status2.txt" || fail "status does not show the lock"
ok "status shows the last reload's failure and the lock"

exit_of() { rc=0; "$@" > /dev/null 2>&1 || rc=$?; echo "$rc"; }
[ "$(exit_of "$CLI" status extra)" = 2 ] || fail "status with an extra argument: not a usage error"
[ "$(exit_of "$CLI" why --bogus)" = 2 ] || fail "why --bogus: not a usage error"
"$CLI" status --help | grep -q "usage: p11guard status" || fail "status --help"
env -u SSH_AUTH_SOCK "$CLI" status > /dev/null 2> "$T/noagent.err" && fail "status without an agent"
grep -q "SSH_AUTH_SOCK is not set" "$T/noagent.err" || fail "no reason: $(cat "$T/noagent.err")"
ok "status and why: usage errors exit 2, --help, a clear message without an agent"
