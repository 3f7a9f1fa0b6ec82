# Host certificates in session-bind (issue 15, part 3): a host that presents a certificate
# is bound by it; ssh-add -h with a CA keyspec (@cert-authority in known_hosts) lets a key
# go to a host whose certificate names the hop, and not to one it does not name.
. "$(dirname "$0")/lib.sh"

make_askpass "$PIN"
ssh-keygen -q -t ed25519 -N '' -C "host CA" -f "$T/hostca"
SSHD_HOST_CA=$T/hostca SSHD_HOST_PRINCIPALS=a.test start_sshd A
echo "@cert-authority a.test,b.test $(cut -d' ' -f1,2 "$T/hostca.pub")" > "$T/ca_hosts"
ssh-keygen -q -t ed25519 -N '' -C user -f "$T/user"
cat "$T/user.pub" >> "$T/A.keys"
echo "tokens: []" > "$T/empty.yaml"
start_agent --config "$T/empty.yaml"
# ssh to A by the name its certificate gives, trusting only the CA.
ca_ssh() {
	ssh -F /dev/null -p "$A_PORT" -o BatchMode=yes -o IdentitiesOnly=yes \
		-o IdentityFile="$T/user.pub" -o UserKnownHostsFile="$T/ca_hosts" \
		-o StrictHostKeyChecking=yes -o HostKeyAlias=a.test -o ConnectTimeout=10 \
		root@127.0.0.1 true
}

ssh-add "$T/user" 2>/dev/null || fail "ssh-add"
ca_ssh || fail "login to a host with a certificate, unconstrained"
grep -q "bound to host key" "$T/agent.log" || fail "the certified host was not bound"
grep -q "session-bind host" "$T/agent.log" && fail "the host certificate was refused"
ssh-add -D 2>/dev/null
ok "a host presenting a certificate is bound (its CA signature verified)"

ssh-add -H "$T/ca_hosts" -h a.test "$T/user" 2>/dev/null || fail "ssh-add -h a.test (CA)"
ca_ssh || fail "-h a.test with a CA keyspec: login to the host certified as a.test"
ssh-add -D 2>/dev/null
ssh-add -H "$T/ca_hosts" -h b.test "$T/user" 2>/dev/null || fail "ssh-add -h b.test (CA)"
ca_ssh 2>/dev/null && fail "-h b.test let the key go to a host certified as a.test only"
grep -q "hiding key .*ssh-add -h constraints do not permit hop 1" "$T/agent.log" ||
	fail "hiding the key from the b.test-constrained login does not say why"
ok "ssh-add -h with a CA keyspec: the principal that matches is allowed, the other refused"
