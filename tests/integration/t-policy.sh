# The policy over verified destinations, users and forwarding hops, with stock ssh through
# real loopback sshds A, B and C; `p11guard policy explain` must agree with the agent.
. "$(dirname "$0")/lib.sh"

make_token t1 p256 p384 ed25519 rsa2048 # K1 = p256, K2 = ed25519, K3 = p384, K4 = rsa2048
make_confirm_askpass
chmod 755 "$T"                          # sshd reads authorized keys as the user "nobody" too
start_sshd A; start_sshd B; start_sshd C
ssh-keygen -q -t ed25519 -N '' -f "$T/k0"       # a plain key file for logging in to hops
cat "$T/k0.pub" >> "$T/A.keys"; cat "$T/k0.pub" >> "$T/B.keys"
{ known_hosts_line A a.test; known_hosts_line B b.test; known_hosts_line C c.test; } \
	> "$T/policy_known_hosts"

write_config "$T/config.yaml" t1
cat >> "$T/config.yaml" <<CFG
prompt_timeout: 3s
audit:
  file: $T/audit.log
policy:
  known_hosts: [ "$T/policy_known_hosts" ]
  rules:
    - action: allow                     # K1: only to A, directly, as root
      keys: "pkcs11:object=p256"
      to: a.test
      users: [ root ]
    - action: allow                     # K2: only to C, through B
      keys: "pkcs11:object=ed25519"
      to: c.test
      via: b.test
    - action: allow                     # K3: to A after the user confirms
      keys: "pkcs11:object=p384"
      to: a.test
      confirm: always
    - action: allow                     # K4: anywhere, but only for ssh-add
      keys: "pkcs11:object=rsa2048"
      clients: ssh-add
  default: deny
CFG
line_of() { grep -n "$1" "$T/config.yaml" | head -1 | cut -d: -f1; }
RULE_K1=$(line_of "K1: only"); RULE_K2=$(line_of "K2: only"); RULE_K3=$(line_of "K3: to A")
RULE_K4=$(line_of "K4: anywhere")
DEFAULT=$(line_of "default: deny")

"$CLI" policy check "$T/config.yaml" > "$T/check.out" || fail "policy check of a good file"
grep -q "0 warning" "$T/check.out" || fail "unexpected warnings: $(cat "$T/check.out")"
start_agent --config "$T/config.yaml"
pubkeys_from_tokens "$T/config.yaml"
for k in p256 p384 ed25519 rsa2048; do cat "$T/pub/$k.pub" >> "$T/A.keys"; done
for k in p256 ed25519; do cat "$T/pub/$k.pub" >> "$T/B.keys"; cat "$T/pub/$k.pub" >> "$T/C.keys"; done
fp() { ssh-keygen -lf "$T/pub/$1.pub" | awk '{print $2}'; }

# explain EXPECTED RULE-LINE ARGS...: p11guard policy explain gives that decision and rule.
explain() {
	want=$1; line=$2; shift 2
	"$CLI" policy explain --config "$T/config.yaml" "$@" > "$T/explain.out" ||
		fail "policy explain $*"
	grep -q "^decision: $want\$" "$T/explain.out" ||
		fail "explain $* says $(grep decision "$T/explain.out"), want $want"
	grep -q "^rule: $T/config.yaml:$line\$" "$T/explain.out" ||
		fail "explain $* names $(grep rule: "$T/explain.out"), want line $line"
}
# audited DECISION KEY RULE-LINE: the last audit line about KEY has that decision and rule.
audited_as() {
	grep "\"key\":\"$(fp "$2")\"" "$T/audit.log" | tail -1 > "$T/audit.last"
	grep -q "\"decision\":\"$1\"" "$T/audit.last" &&
		grep -q "\"rule\":\"$T/config.yaml:$3\"" "$T/audit.last"
}
audited() {
	audited_as "$@" || fail "audit for $2: $(cat "$T/audit.last"), want $1 by line $3"
}
# refused KEY RULE-LINE: denied at signing, or (when ssh bound first) hidden from the list.
refused() {
	audited_as deny "$1" "$2" || audited_as hide "$1" "$2" ||
		fail "audit for $1: $(cat "$T/audit.last"), want deny or hide by line $2"
}
accepted() { grep -c "Accepted publickey for $2 .*$(fp "$3")" "$T/sshd-$1.log" || true; }

ssh_run "$A_PORT" "$T/pub/p256.pub" root@127.0.0.1 true || fail "K1 to A"
audited allow p256 "$RULE_K1"
explain allow "$RULE_K1" --key p256 --to a.test --user root
ok "K1 logs in to A directly (rule line $RULE_K1), and explain agrees"

ssh_run "$B_PORT" "$T/pub/p256.pub" root@127.0.0.1 true 2>/dev/null && fail "K1 logged in to B"
[ "$(accepted B root p256)" -eq 0 ] || fail "B accepted K1"
refused p256 "$DEFAULT"
explain deny "$DEFAULT" --key p256 --to b.test --user root
ok "K1 to B is refused, audited with the default (line $DEFAULT), and explain agrees"

hop() { ssh_run "$1" "$T/k0" -A root@127.0.0.1 "$2"; }
hop "$B_PORT" "ssh-add -l" > "$T/list-b.out" || fail "ssh-add -l through B"
grep -q " ed25519 " "$T/list-b.out" || fail "K2 not listed on B: $(cat "$T/list-b.out")"
grep -q " p256 " "$T/list-b.out" && fail "K1 listed on a connection forwarded to B"
ssh-add -l | grep -q " p256 " || fail "K1 not listed locally"
ok "ssh-add -l through B lists K2 but not K1; locally K1 is listed"

hop "$B_PORT" "$(inner_ssh "$C_PORT" "$T/pub/ed25519.pub")" || fail "K2 to C through B"
[ "$(accepted C root ed25519)" -eq 1 ] || fail "C did not accept K2"
audited allow ed25519 "$RULE_K2"
explain allow "$RULE_K2" --key ed25519 --to c.test --user root --via b.test
ok "K2 logs in to C through B, and explain agrees"

ssh_run "$C_PORT" "$T/pub/ed25519.pub" root@127.0.0.1 true && fail "K2 to C directly"
refused ed25519 "$DEFAULT"
explain deny "$DEFAULT" --key ed25519 --to c.test --user root
ok "K2 to C directly is denied"

hop "$B_PORT" "$(inner_ssh "$A_PORT" "$T/pub/ed25519.pub")" && fail "K2 from B to A"
refused ed25519 "$DEFAULT"
explain deny "$DEFAULT" --key ed25519 --to a.test --user root --via b.test
ok "K2 from B to A is denied"

hop "$A_PORT" "$(inner_ssh "$C_PORT" "$T/pub/ed25519.pub")" && fail "K2 through A to C"
refused ed25519 "$DEFAULT"
explain deny "$DEFAULT" --key ed25519 --to c.test --user root --via a.test
[ "$(accepted C root ed25519)" -eq 1 ] || fail "C accepted K2 again"
ok "K2 through A to C is denied"

ssh_run "$A_PORT" "$T/pub/p256.pub" nobody@127.0.0.1 true && fail "K1 as nobody"
grep "\"user\":\"nobody\"" "$T/audit.log" | grep -q "\"decision\":\"deny\"" ||
	fail "no audited denial for user nobody"
explain deny "$DEFAULT" --key p256 --to a.test --user nobody
ok "user patterns: root is allowed to A with K1, nobody is denied"

# The requesting program is the peer's executable, read by the agent, not anything it says.
ssh-add -T "$T/pub/rsa2048.pub" || fail "K4 for ssh-add"
audited allow rsa2048 "$RULE_K4"
explain allow "$RULE_K4" --key rsa2048 --client /usr/bin/ssh-add
ssh_run "$A_PORT" "$T/pub/rsa2048.pub" root@127.0.0.1 true 2>/dev/null && fail "K4 for ssh"
[ "$(accepted A root rsa2048)" -eq 0 ] || fail "A accepted K4 from ssh"
refused rsa2048 "$DEFAULT"
explain deny "$DEFAULT" --key rsa2048 --to a.test --user root --client /usr/bin/ssh
ok "clients: K4 signs for ssh-add, and is refused to ssh (line $DEFAULT); explain agrees"

echo yes > "$T/confirm.mode"
ssh_run "$A_PORT" "$T/pub/p384.pub" root@127.0.0.1 true || fail "K3 confirmed yes"
grep -q "a.test" "$T/confirm.last" && grep -q "User: root" "$T/confirm.last" &&
	grep -q "Token: t1" "$T/confirm.last" && grep -q "Via: direct" "$T/confirm.last" &&
	grep -q "Requested by: .*ssh" "$T/confirm.last" || fail "prompt text: $(cat "$T/confirm.last")"
echo no > "$T/confirm.mode"
ssh_run "$A_PORT" "$T/pub/p384.pub" root@127.0.0.1 true && fail "K3 confirmed no"
grep -q "declined" "$T/agent.log" || fail "declined confirmation not logged"
echo sleep > "$T/confirm.mode"
ssh_run "$A_PORT" "$T/pub/p384.pub" root@127.0.0.1 true && fail "K3 with no answer"
grep -q "no answer from .* within 3 s" "$T/agent.log" || fail "prompt timeout not logged"
[ "$(wc -l < "$T/confirm.count")" -eq 3 ] || fail "$(wc -l < "$T/confirm.count") prompts, want 3"
[ "$(accepted A root p384)" -eq 1 ] || fail "A accepted K3 $(accepted A root p384) times, want 1"
explain "allow after confirmation" "$RULE_K3" --key p384 --to a.test --user root
ok "confirm rule: yes allows, no and a timeout deny; the prompt names key, host, user, hops, client"

# Last: C gets a new host key under the same name. ssh on B is told to accept it.
new_key=$T/sshd-C/hostkey2
ssh-keygen -q -t ed25519 -N '' -f "$new_key"
sed -i "s|^HostKey .*|HostKey $new_key|" "$T/sshd-C/sshd_config"
kill "$(cat "$T/sshd-C/sshd.pid")"
sleep 0.5
: > "$T/sshd-C.log"
/usr/sbin/sshd -D -f "$T/sshd-C/sshd_config" -E "$T/sshd-C.log" &
PIDS="$PIDS $!"
wait_for 10 grep -q "Server listening" "$T/sshd-C.log" || fail "sshd C did not restart"
hop "$B_PORT" "$(inner_ssh "$C_PORT" "$T/pub/ed25519.pub" -o StrictHostKeyChecking=no \
	-o UserKnownHostsFile=/dev/null)" && fail "K2 to C with a changed host key"
grep "\"key\":\"$(fp ed25519)\"" "$T/audit.log" | tail -1 |
	grep -q "in no known_hosts file: unknown or changed host key" ||
	fail "the refusal does not say the host key is unknown: $(tail -1 "$T/audit.log")"
explain deny "$DEFAULT" --key ed25519 --to "$(cut -d' ' -f1,2 "$new_key.pub")" --user root \
	--via b.test
ok "a changed host key for C is denied, and the reason says the key is unknown"
