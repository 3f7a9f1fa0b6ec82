# Software keys (ssh-add FILE) behave as with OpenSSH's ssh-agent, under p11guard's policy:
# every key type added, listed, used for login and removed; -t, -c, -h direct and multi-hop
# with a user; ssh-add -d, -D and SIGUSR1; keys with certificates; the same listings as
# ssh-agent after the same adds and removes; `keys: "software:"` and `software_keys: deny`.
. "$(dirname "$0")/lib.sh"

make_askpass "$PIN"
make_token t1 rsa2048 p256      # for the side-by-side run with ssh-agent, near the end
module=$(softhsm_module)
echo "tokens: []" > "$T/empty.yaml"
start_agent --config "$T/empty.yaml"
start_sshd A; start_sshd B
KEYS="rsa ecdsa256 ecdsa384 ecdsa521 ed25519"
for k in $KEYS; do
	case $k in
	rsa) args="-t rsa -b 2048" ;;
	ecdsa*) args="-t ecdsa -b ${k#ecdsa}" ;;
	ed25519) args="-t ed25519" ;;
	esac
	# shellcheck disable=SC2086
	ssh-keygen -q $args -N '' -C "key-$k" -f "$T/$k"
	cat "$T/$k.pub" >> "$T/A.keys"
done
ssh-keygen -q -t ed25519 -N '' -f "$T/hop"     # a plain key for logging in to B
cat "$T/hop.pub" >> "$T/B.keys"
accepted() { grep -c "Accepted publickey for root" "$T/sshd-A.log" || true; }
listed() { ssh-add -l 2>/dev/null | grep -c SHA256 || true; }

for k in $KEYS; do
	ssh-add "$T/$k" 2> "$T/add.err" || fail "ssh-add $k: $(cat "$T/add.err")"
done
[ "$(listed)" -eq 5 ] || fail "$(listed) keys listed, want 5"
for k in $KEYS; do
	before=$(accepted)
	ssh_run "$A_PORT" "$T/$k.pub" root@127.0.0.1 true || fail "login with software $k"
	[ "$(accepted)" -eq $((before + 1)) ] || fail "A did not accept $k"
	ssh-add -T "$T/$k.pub" || fail "ssh-add -T $k"
done
ok "RSA, ECDSA P-256/384/521 and Ed25519 file keys: added, listed, ssh-add -T, logged in"

ssh-add -d "$T/rsa" 2>/dev/null || fail "ssh-add -d rsa"
[ "$(listed)" -eq 4 ] || fail "ssh-add -d left $(listed) keys"
ssh-add -d - < "$T/ecdsa521.pub" 2>/dev/null || fail "ssh-add -d - (the key on stdin)"
[ "$(listed)" -eq 3 ] || fail "ssh-add -d - left $(listed) keys"
ssh-add -x 2>/dev/null || fail "ssh-add -x"
[ "$(listed)" -eq 0 ] || fail "a locked agent listed $(listed) software keys"
ssh-add -T "$T/ed25519.pub" 2>/dev/null && fail "a locked agent signed with a software key"
ssh-add -X 2>/dev/null || fail "ssh-add -X"
[ "$(listed)" -eq 3 ] || fail "unlocking brought back $(listed) keys, want 3"
ssh_run "$A_PORT" "$T/rsa.pub" root@127.0.0.1 true 2>/dev/null && fail "a removed key logged in"
ssh-add -D 2>/dev/null || fail "ssh-add -D"
[ "$(listed)" -eq 0 ] || fail "ssh-add -D left $(listed) keys"
# ssh-add -D sends protocol 1's remove-all first; ssh-agent answers it, and so do we.
grep -q "refused request" "$T/agent.log" && fail "ssh-add -D logged a refusal"
ssh-add "$T/ed25519" "$T/ecdsa256" 2>/dev/null || fail "ssh-add two keys"
kill -USR1 "$AGENT_PID"
wait_for 5 sh -c '! ssh-add -l | grep -q SHA256' || fail "SIGUSR1 did not remove the keys"
ok "ssh-add -d FILE, -d -, -D and SIGUSR1 remove software keys; -x and -X lock and unlock them"

ssh-add -t 2 "$T/ed25519" 2>/dev/null || fail "ssh-add -t"
[ "$(listed)" -eq 1 ] || fail "a key with a lifetime is not listed"
wait_for 6 sh -c '! ssh-add -l | grep -q SHA256' || fail "the key outlived its lifetime"
rm -f "$T/confirm.count"
ssh-add -c "$T/ed25519" 2>/dev/null || fail "ssh-add -c"
ssh-add -T "$T/ed25519.pub" || fail "a confirmed signature"
[ "$(wc -l < "$T/confirm.count")" -eq 1 ] || fail "ssh-add -c asked no confirmation"
ssh-add -D 2>/dev/null
ok "-t expires the key, -c asks before each signature"

a="[127.0.0.1]:$A_PORT"; b="[127.0.0.1]:$B_PORT"
ssh-add -H "$T/known_hosts" -h "$a" "$T/ecdsa384" 2>/dev/null || fail "ssh-add -h A"
ssh_run "$A_PORT" "$T/ecdsa384.pub" root@127.0.0.1 true || fail "-h A: login to A"
cat "$T/ecdsa384.pub" >> "$T/B.keys"
ssh_run "$B_PORT" "$T/ecdsa384.pub" root@127.0.0.1 true 2>/dev/null && fail "-h A: login to B"
ssh-add -D 2>/dev/null
ssh-add -H "$T/known_hosts" -h "$b" -h "$b>nobody@$a" "$T/ecdsa256" 2>/dev/null ||
	fail "ssh-add -h B -h B>nobody@A"
ssh_run "$B_PORT" "$T/hop" -A root@127.0.0.1 "$(inner_ssh "$A_PORT" "$T/ecdsa256.pub")" \
	2>/dev/null && fail "B>nobody@A let root log in to A"
ssh-add -D 2>/dev/null
ssh-add -H "$T/known_hosts" -h "$b" -h "$b>root@$a" "$T/ecdsa256" 2>/dev/null ||
	fail "ssh-add -h B -h B>root@A"
before=$(accepted)
ssh_run "$B_PORT" "$T/hop" -A root@127.0.0.1 "$(inner_ssh "$A_PORT" "$T/ecdsa256.pub")" ||
	fail "B>root@A: the forwarded login from B to A"
[ "$(accepted)" -eq $((before + 1)) ] || fail "A did not accept the forwarded login"
ssh-add -D 2>/dev/null
ok "-h A allows A only; -h B -h B>root@A allows root through B, not nobody"

# Certificates: ssh-add FILE adds the key and, beside it, FILE-cert.pub; C trusts only the CA.
ssh-keygen -q -t ed25519 -N '' -C "user CA" -f "$T/ca"
for k in rsa ecdsa384 ed25519; do
	ssh-keygen -q -s "$T/ca" -I "cert-$k" -n root -V +1h "$T/$k.pub" || fail "signing $k"
done
SSHD_EXTRA="TrustedUserCAKeys $T/ca.pub" start_sshd C
cert_login() {  # cert_login KEY: logs in to C with the agent's certificate of KEY only
	ssh_run "$C_PORT" "$T/$1-cert.pub" root@127.0.0.1 true
}
for k in rsa ecdsa384 ed25519; do
	ssh-add "$T/$k" 2> "$T/add.err" || fail "ssh-add $k with its certificate"
	grep -q "Certificate added" "$T/add.err" || fail "ssh-add did not add $k's certificate"
	ssh-add -l | grep -q -- "-CERT)" || fail "no certificate listed for $k"
	cert_login "$k" || fail "login to C with the $k certificate"
	ssh-add -D 2>/dev/null
done
grep -c "Accepted publickey for root .* CA " "$T/sshd-C.log" | grep -qx 3 ||
	fail "C did not accept three certificate logins"
ssh-add "$T/ed25519" 2>/dev/null
ssh-add -d "$T/ed25519-cert.pub" 2>/dev/null || fail "ssh-add -d CERT"
ssh-add -l | grep -q -- "-CERT)" && fail "the certificate is still listed"
ssh-add -l | grep -q "key-ed25519 (ED25519)" || fail "removing the certificate took the key"
cert_login ed25519 2>/dev/null && fail "a removed certificate logged in"
ssh-add -D 2>/dev/null
ok "RSA, ECDSA and Ed25519 keys with certificates: added, listed, logged in to a CA-only sshd, removed by certificate"

# Side by side with OpenSSH's ssh-agent: the same adds and removes, the same listings.
ssh-agent -D -a "$T/ossh.sock" > "$T/ssh-agent.log" 2>&1 &
PIDS="$PIDS $!"
wait_for 10 test -S "$T/ossh.sock" || fail "ssh-agent did not start"
for sock in "$SSH_AUTH_SOCK" "$T/ossh.sock"; do
	SSH_AUTH_SOCK=$sock ssh-add "$T/rsa" "$T/ecdsa521" "$T/ed25519" "$T/ecdsa256" 2>/dev/null
	SSH_AUTH_SOCK=$sock ssh-add -d "$T/rsa-cert.pub" 2>/dev/null
	SSH_AUTH_SOCK=$sock ssh-add -d "$T/ecdsa521" 2>/dev/null
	SSH_AUTH_SOCK=$sock ssh-add "$T/rsa" 2>/dev/null          # again: replaced, not doubled
	SSH_AUTH_SOCK=$sock ssh-add -l | sort > "$sock.l"
	SSH_AUTH_SOCK=$sock ssh-add -L | sort > "$sock.L"
done
cmp -s "$SSH_AUTH_SOCK.l" "$T/ossh.sock.l" ||
	fail "ssh-add -l differs: $(cat "$SSH_AUTH_SOCK.l") // $(cat "$T/ossh.sock.l")"
cmp -s "$SSH_AUTH_SOCK.L" "$T/ossh.sock.L" || fail "ssh-add -L differs from ssh-agent's"
# Then a token without an Ed25519 key beside them (OpenSSH 9.2's PKCS#11 has none), keys
# removed from it; comments aside, as token keys are named differently.
for sock in "$SSH_AUTH_SOCK" "$T/ossh.sock"; do
	SSH_AUTH_SOCK=$sock ssh-add -s "$module" < /dev/null > /dev/null 2>&1 ||
		fail "ssh-add -s to $sock"
	SSH_AUTH_SOCK=$sock ssh-add -L | grep -m1 ecdsa > "$sock.token.pub"
	SSH_AUTH_SOCK=$sock ssh-add -d "$sock.token.pub" 2>/dev/null || fail "ssh-add -d token key"
	SSH_AUTH_SOCK=$sock ssh-add -d "$T/ed25519" 2>/dev/null
	SSH_AUTH_SOCK=$sock ssh-add -l | awk '{ print $1, $2, $NF }' | sort > "$sock.l"
	SSH_AUTH_SOCK=$sock ssh-add -L | cut -d' ' -f1,2 | sort > "$sock.L"
done
cmp -s "$SSH_AUTH_SOCK.l" "$T/ossh.sock.l" ||
	fail "with a token, ssh-add -l differs: $(cat "$SSH_AUTH_SOCK.l") // $(cat "$T/ossh.sock.l")"
cmp -s "$SSH_AUTH_SOCK.L" "$T/ossh.sock.L" || fail "with a token, ssh-add -L differs"
ssh-add -D 2>/dev/null
ok "ssh-add -l and -L match OpenSSH's ssh-agent after the same adds and removes, a token's too"

# Under a policy: `software:` selects software keys; software_keys: deny refuses them.
kill "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null || true
cat > "$T/policy.yaml" <<CFG
tokens: []
policy:
  default: deny
  known_hosts: [ "$T/known_hosts" ]
  rules:
    - action: allow
      keys: "software:"
      to: "[127.0.0.1]:$A_PORT"
CFG
start_agent --config "$T/policy.yaml"
ssh-add "$T/ed25519" 2>/dev/null || fail "ssh-add under a policy"
ssh_run "$A_PORT" "$T/ed25519.pub" root@127.0.0.1 true || fail "keys: software: to A"
cat "$T/ed25519.pub" >> "$T/B.keys"
ssh_run "$B_PORT" "$T/ed25519.pub" root@127.0.0.1 true 2>/dev/null && fail "software key to B"
# Not even offered on a connection bound for B, and the log says which rule decided.
grep -q "hiding key .*no rule allows key .*policy.yaml:3" "$T/agent.log" ||
	fail "hiding the key from B does not name the rule"
kill "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null || true
printf 'tokens: []\nsoftware_keys: deny\n' > "$T/deny.yaml"
start_agent --config "$T/deny.yaml"
ssh-add "$T/ed25519" 2>/dev/null && fail "software_keys: deny let a key in"
grep -q "software keys are refused here (software_keys: deny" "$T/agent.log" ||
	fail "the refusal does not say why"
ok "keys: \"software:\" allows software keys to A only; software_keys: deny refuses them"
