# OpenSSH's own destination constraints: ssh-add -s MODULE -h HOST behaves as in ssh-agent.
. "$(dirname "$0")/lib.sh"

make_token t1 p256
make_askpass "$PIN"
echo "tokens: []" > "$T/empty.yaml"
module=$(softhsm_module)
start_agent --config "$T/empty.yaml"
start_sshd A; start_sshd B
ssh-keygen -q -t ed25519 -N '' -f "$T/k0"       # a plain key for logging in to B
cat "$T/k0.pub" >> "$T/B.keys"
a="[127.0.0.1]:$A_PORT"; b="[127.0.0.1]:$B_PORT"

ssh-add -H "$T/known_hosts" -h "$a" -s "$module" || fail "ssh-add -h A -s"
grep -q "restricted to destinations" "$T/agent.log" || fail "constraint not recorded"
split_pubkeys
cat "$T/pub/p256.pub" >> "$T/A.keys"; cat "$T/pub/p256.pub" >> "$T/B.keys"
accepted() { grep -c "Accepted publickey for root .*ECDSA" "$T/sshd-$1.log" || true; }

ssh_run "$A_PORT" "$T/pub/p256.pub" root@127.0.0.1 true || fail "restricted key to A"
[ "$(accepted A)" -eq 1 ] || fail "A did not accept the key"
ok "a key restricted to A logs in to A"

ssh_run "$B_PORT" "$T/pub/p256.pub" root@127.0.0.1 true 2>/dev/null && fail "restricted key to B"
[ "$(accepted B)" -eq 0 ] || fail "B accepted the restricted key"
grep -q "ssh-add -h" "$T/agent.log" || fail "refusal does not name ssh-add -h"
ok "it fails to B, and the log says ssh-add -h constraints refused it"

ssh_run "$B_PORT" "$T/k0" -A root@127.0.0.1 ssh-add -l > "$T/list-b.out" 2>&1 || true
grep -q "no identities" "$T/list-b.out" || fail "ssh-add -l on B: $(cat "$T/list-b.out")"
grep -q SHA256 "$T/list-b.out" && fail "restricted key listed on a connection bound for B"
ssh-add -l | grep -q SHA256 || fail "restricted key not listed locally"
ok "it is hidden on a connection bound for B, and listed locally"

# Through B to A: permitted only when the constraint names that hop.
ssh-add -e "$module" || fail "ssh-add -e"
ssh-add -H "$T/known_hosts" -h "$b" -h "$b>$a" -s "$module" || fail "ssh-add -h B -h B>A"
ssh_run "$B_PORT" "$T/k0" -A root@127.0.0.1 ssh-add -l > "$T/list-b.out" 2>&1
grep -q SHA256 "$T/list-b.out" || fail "key usable beyond B not listed on B"
rm -f "$T/confirm.count"
ssh_run "$B_PORT" "$T/k0" -A root@127.0.0.1 "$(inner_ssh "$A_PORT" "$T/pub/p256.pub")" ||
	fail "B>A constraint: login from B to A"
[ "$(accepted A)" -eq 2 ] || fail "A did not accept the forwarded login"
# Under the built-in default a key added with -h follows its restrictions alone: no
# confirmation for its forwarded use, as with ssh-agent (issue 16).
[ -f "$T/confirm.count" ] && fail "the built-in default asked to confirm an ssh-add -h key"
ssh_run "$A_PORT" "$T/pub/p256.pub" root@127.0.0.1 true 2>/dev/null &&
	fail "direct login to A allowed by a B>A constraint"
ok "-h B -h B>A: listed on B, logs in from B to A, and not directly to A"
