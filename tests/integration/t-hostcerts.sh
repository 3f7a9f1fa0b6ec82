# Host certificates in session-bind: a host that presents a certificate
# is bound by it; ssh-add -h with a CA keyspec (@cert-authority in known_hosts) lets a key
# go to a host whose certificate names the hop, and not to one it does not name; a policy
# rule naming the host through @cert-authority allows it, and one naming another does not.
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

# The policy names the host as its known_hosts @cert-authority entry does.
policy_for() {  # policy_for HOST: only software keys, only to HOST
	kill "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null || true
	cat > "$T/policy.yaml" <<CFG
tokens: []
policy:
  default: deny
  known_hosts: [ "$T/ca_hosts" ]
  rules:
    - action: allow
      keys: "software:"
      to: $1
CFG
	start_agent --config "$T/policy.yaml"
	ssh-add "$T/user" 2>/dev/null || fail "ssh-add under the policy"
}
policy_for a.test
ca_ssh || fail "policy to: a.test through @cert-authority: login"
grep -q "signed with" "$T/agent.log" || fail "no signature under the a.test policy"
"$CLI" policy check --config "$T/policy.yaml" > "$T/check.out" 2>&1 || true
grep -q "cert-authority\|never matches" "$T/check.out" &&
	fail "policy check still warns about a.test: $(cat "$T/check.out")"
policy_for "'*.test'"
ca_ssh || fail "policy to: *.test through @cert-authority: login"
policy_for b.test
ca_ssh 2>/dev/null && fail "policy to: b.test let the key go to the host certified as a.test"
grep -q "hiding key .*no rule allows" "$T/agent.log" || fail "the policy refusal does not say why"
ok "policy to: naming an @cert-authority name allows the certified host (also by pattern), refuses another"
