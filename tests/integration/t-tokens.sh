# Several tokens at once: two SoftHSM tokens and one reached through p11-kit's remoting
# (`p11-kit server` in front of SoftHSM, p11-kit-client.so in the agent). Killing the
# server fails only that token's keys, with a reason; restarting it brings them back.
. "$(dirname "$0")/lib.sh"

CLIENT=$(ls /usr/lib/*/pkcs11/p11-kit-client.so 2>/dev/null | head -n1)
[ -n "$CLIENT" ] || fail "p11-kit-client.so is not installed (package p11-kit-modules)"
REMOTE=remote$$         # unique, so that pkill finds only this test's server
make_token t1 ed25519
make_token t2 p384
make_token "$REMOTE" p256
make_askpass "$PIN"

start_server() {
	p11-kit server -f -n "$T/p11kit.sock" --provider "$(softhsm_module)" \
		"pkcs11:token=$REMOTE" >> "$T/p11kit-server.log" 2>&1 &
	PIDS="$PIDS $!"
	wait_for 10 test -S "$T/p11kit.sock" || fail "p11-kit server did not start"
}
# The server forks a p11-kit-remote per client; both name the token on their command line.
kill_server() { pkill -f "pkcs11:token=$REMOTE" || true; rm -f "$T/p11kit.sock"; }

start_server
export P11_KIT_SERVER_ADDRESS="unix:path=$T/p11kit.sock"
write_config "$T/config.yaml" t1 t2
cat >> "$T/config.yaml" <<CFG
  - name: shared-hsm
    module: $CLIENT
    uri: "pkcs11:token=$REMOTE"
    pin: askpass
CFG
start_agent --config "$T/config.yaml"
split_pubkeys
for k in ed25519 p384 p256; do
	ssh-add -T "$T/pub/$k.pub" || fail "signing with $k"
done
ssh-add -l | grep -q "p256 ($REMOTE" || fail "the remote token's key is not named after it"
ok "two SoftHSM tokens and one through p11-kit server serve together; each key signs"

kill_server
ssh-add -T "$T/pub/p256.pub" 2>/dev/null && fail "a key of the dead server signed"
wait_for 3 sh -c '! ssh-add -l | grep -q "p256 ($REMOTE"' ||
	fail "the dead server's key is still listed after 3 s"
grep -q "shared-hsm.*CKR_DEVICE_ERROR\|$REMOTE.*removed" \
	"$T/agent.log" || fail "no reason logged for the dead server's token"
# A signature refused before any rescan withdrew the key says that the token could not be
# reached, not that it was pulled.
awk -v r="$REMOTE" '$0 ~ r ".*removed; its keys" { exit } $0 ~ "refused sign.*" r { print }' \
	"$T/agent.log" > "$T/refusals"
if grep -v -q "TokenUnreachable: .*token unreachable" "$T/refusals"; then
	fail "the dead server's signature was not refused as \"token unreachable\""
fi
grep "shared-hsm\|Unreachable" "$T/agent.log" | tail -n 4
ssh-add -T "$T/pub/ed25519.pub" || fail "a local token failed with the server"
ssh-add -T "$T/pub/p384.pub" || fail "the other local token failed with the server"
ok "server killed: only its token's key fails and leaves the list, with a reason"

start_server
wait_for 5 sh -c 'ssh-add -l | grep -q "p256 ($REMOTE"' ||
	fail "the remote key did not come back after the server restarted"
ssh-add -T "$T/pub/p256.pub" || fail "signing after the server restarted"
ok "server restarted: its token's key is back and signs, no ssh-add, no restart"
