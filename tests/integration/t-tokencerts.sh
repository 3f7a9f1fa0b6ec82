# Certificates for token keys: ssh-add -s MODULE -C CERT as OpenSSH 10 sends it
# (associated-certs-v00, through tests/integration/add-provider since Debian's ssh-add is
# 9.2), with and without certs_only, a certificate for no key of the token, and a config
# entry's certificates: re-read on reload; each certificate logs in to an sshd that trusts
# only the CA.
. "$(dirname "$0")/lib.sh"

ADD=$top_builddir/tests/integration/add-provider
make_token t1 rsa2048 p256 ed25519
make_askpass "$PIN"
module=$(softhsm_module)
write_config "$T/t1.yaml" t1
pubkeys_from_tokens "$T/t1.yaml"
ssh-keygen -q -t ed25519 -N '' -C "user CA" -f "$T/ca"
for k in rsa2048 p256 ed25519; do
	ssh-keygen -q -s "$T/ca" -I "t1-$k" -n root -V +1h "$T/pub/$k.pub" || fail "signing $k"
done
SSHD_EXTRA="TrustedUserCAKeys $T/ca.pub" start_sshd C
start_sshd A
cat "$T/pub/p256.pub" >> "$T/A.keys"
certs() { ssh-add -l | grep -c -- "-CERT)" || true; }
keys() { ssh-add -l | grep -c SHA256 || true; }
cert_login() { ssh_run "$C_PORT" "$T/pub/$1-cert.pub" root@127.0.0.1 true; }

echo "tokens: []" > "$T/empty.yaml"
start_agent --config "$T/empty.yaml"
"$ADD" "$SSH_AUTH_SOCK" "$module" "$T/pub/rsa2048-cert.pub" "$T/pub/p256-cert.pub" \
	"$T/pub/ed25519-cert.pub" || fail "ssh-add -s with three certificates"
[ "$(keys)" -eq 6 ] && [ "$(certs)" -eq 3 ] || fail "listed $(keys) keys, $(certs) certificates"
for k in rsa2048 p256 ed25519; do
	cert_login "$k" || fail "login to C with the token's $k certificate"
done
ssh-add -e "$module" 2>/dev/null || fail "ssh-add -e"
ok "ssh-add -s -C: the keys and their certificates listed; each certificate logs in to a CA-only sshd"

"$ADD" "$SSH_AUTH_SOCK" "$module" -o "$T/pub/p256-cert.pub" || fail "certs_only"
[ "$(keys)" -eq 1 ] && [ "$(certs)" -eq 1 ] || fail "certs_only listed $(keys) keys"
cert_login p256 || fail "certs_only: login with the certificate"
ssh_run "$A_PORT" "$T/pub/p256.pub" root@127.0.0.1 true 2>/dev/null &&
	fail "certs_only: the plain key logged in"
ssh-add -e "$module" 2>/dev/null
ssh-keygen -q -t ed25519 -N '' -f "$T/other"
ssh-keygen -q -s "$T/ca" -I other -n root "$T/other.pub"
"$ADD" "$SSH_AUTH_SOCK" "$module" "$T/other-cert.pub" || fail "a certificate for no token key"
[ "$(keys)" -eq 3 ] && [ "$(certs)" -eq 0 ] || fail "a foreign certificate was listed"
ssh-add -e "$module" 2>/dev/null
"$ADD" "$SSH_AUTH_SOCK" "$module" -o "$T/other-cert.pub" &&
	fail "certs_only with no matching certificate added something"
grep -q "no certificate is for a key" "$T/agent.log" || fail "that refusal does not say why"
ok "certs_only lists only the certificate; a certificate for another key is ignored"

kill "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null || true
cat > "$T/certs.yaml" <<CFG
tokens:
  - name: t1
    module: $module
    uri: "pkcs11:token=t1"
    certificates: [ "$T/pub/ed25519-cert.pub" ]
CFG
start_agent --config "$T/certs.yaml"
[ "$(certs)" -eq 1 ] || fail "the config's certificate is not listed"
cert_login ed25519 || fail "login with the config's certificate"
cert_login p256 2>/dev/null && fail "a certificate the config does not name logged in"
sed -i "s#ed25519-cert.pub\" ]#ed25519-cert.pub\", \"$T/pub/p256-cert.pub\" ]#" "$T/certs.yaml"
kill -HUP "$AGENT_PID"
wait_for 5 sh -c "ssh-add -l | grep -c -- '-CERT)' | grep -qx 2" || fail "reload: $(ssh-add -l)"
cert_login p256 || fail "login with the certificate added by reload"
ok "certificates: in the config are served, and re-read on reload"

before=$(keys)
ssh-add -s "$module" < /dev/null > /dev/null 2>&1 || fail "ssh-add -s of the configured token"
[ "$(keys)" -eq "$before" ] || fail "a configured token added again is listed twice"
ok "a configured token added again with ssh-add -s is listed once"
