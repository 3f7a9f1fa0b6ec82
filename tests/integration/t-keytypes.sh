# Every key type on a SoftHSM token works with stock ssh-add and ssh against a loopback sshd.
. "$(dirname "$0")/lib.sh"

make_token t1 rsa2048 p256 p384 p521 ed25519
make_askpass "$PIN"
write_config "$T/config.yaml" t1
start_agent --config "$T/config.yaml"

[ "$(ssh-add -l | wc -l)" -eq 5 ] || fail "ssh-add -l lists $(ssh-add -l | wc -l) keys, want 5"
ssh-add -l | grep -q "2048 .* rsa2048 (t1 #.*(RSA)" || fail "RSA-2048 key not listed"
ssh-add -l | grep -q "256 .* p256 .*(ECDSA)" || fail "P-256 key not listed"
ssh-add -l | grep -q "384 .* p384 .*(ECDSA)" || fail "P-384 key not listed"
ssh-add -l | grep -q "521 .* p521 .*(ECDSA)" || fail "P-521 key not listed"
ssh-add -l | grep -q "256 .* ed25519 .*(ED25519)" || fail "Ed25519 key not listed"
ok "ssh-add -l lists all five key types"

split_pubkeys
for k in rsa2048 p256 p384 p521 ed25519; do
	ssh-add -T "$T/pub/$k.pub" || fail "ssh-add -T $k"
done
ok "ssh-add -T passes for each key"

# p11guard tokens agrees with ssh-keygen about every fingerprint.
"$CLI" tokens --config "$T/config.yaml" > "$T/tokens.out" || fail "p11guard tokens"
for k in rsa2048 p256 p384 p521 ed25519; do
	fp=$(ssh-keygen -lf "$T/pub/$k.pub" | awk '{print $2}')
	grep -q "key \"$k\": .* $fp" "$T/tokens.out" || fail "p11guard tokens fingerprint of $k"
	grep -q "pkcs11:.*token=t1.*object=$k" "$T/tokens.out" || fail "pkcs11 URI of $k"
done
ok "p11guard tokens prints the same fingerprints as ssh-keygen, and URIs"

start_sshd A
for k in p256 p384 p521 ed25519; do
	cat "$T/pub/$k.pub" >> "$T/A.keys"
	ssh_run "$A_PORT" "$T/pub/$k.pub" root@127.0.0.1 true || fail "ssh with $k"
done
cat "$T/pub/rsa2048.pub" >> "$T/A.keys"
for alg in rsa-sha2-256 rsa-sha2-512; do
	ssh_run "$A_PORT" "$T/pub/rsa2048.pub" -o PubkeyAcceptedAlgorithms="$alg" \
		root@127.0.0.1 true || fail "ssh with RSA as $alg"
	grep -q "signed with .*($alg)" "$T/agent.log" || fail "agent did not sign $alg"
done
[ "$(grep -c 'Accepted publickey' "$T/sshd-A.log")" -eq 6 ] || fail "sshd accepted $(grep -c 'Accepted publickey' "$T/sshd-A.log") logins, want 6"
ok "ssh logs in with P-256, P-384, P-521, Ed25519, and RSA as rsa-sha2-256 and rsa-sha2-512"
