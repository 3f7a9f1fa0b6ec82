# Hot-plug without restart: a token pulled and reinserted (tests/p11wrap between the
# agent and SoftHSM), a token pulled in the middle of a signature, and PIN keeping.
. "$(dirname "$0")/lib.sh"

make_token plug p256
make_askpass "$PIN"
use_p11wrap
cat > "$T/config.yaml" <<CFG
tokens:
  - name: plug
    module: $WRAP
    uri: "pkcs11:token=plug"
rescan_interval: 1s
CFG
start_agent --config "$T/config.yaml"
split_pubkeys
KEY=$T/pub/p256.pub
prompts() { cat "$T/askpass.count" 2>/dev/null | wc -l; }
has_key() { ssh-add -l 2>/dev/null | grep -q "p256 (plug"; }

ssh-add -T "$KEY" || fail "signing before any removal"
[ "$(prompts)" = 1 ] || fail "expected 1 PIN prompt, saw $(prompts)"
ok "token present: key listed and signing"

touch "$T/state/absent"
wait_for 3 sh -c '! ssh-add -l 2>/dev/null | grep -q "p256 (plug"' ||
	fail "key still listed 3 s after the token was pulled"
ssh-add -T "$KEY" 2>/dev/null && fail "a pulled token signed"
grep -q "plug (SoftHSM project SoftHSM v2 #.*) removed" "$T/agent.log" ||
	fail "the removal was not logged"
ok "token pulled: key withdrawn within 3 s"

rm "$T/state/absent"
wait_for 3 has_key || fail "key not back 3 s after reinsertion"
ssh-add -T "$KEY" || fail "signing after reinsertion"
[ "$(prompts)" = 2 ] || fail "expected a new PIN prompt after reinsertion, saw $(prompts)"
ok "token reinserted: key back within 3 s, PIN asked again (it was forgotten)"

# Pulled in the middle of a signature: the signature fails with "token removed", the key
# goes away at once, and comes back with the token.
touch "$T/state/sign-removes"
ssh-add -T "$KEY" 2>/dev/null && fail "a signature that raced a removal succeeded"
rm "$T/state/sign-removes"
grep -q "TokenRemoved: .*token removed: C_Sign: CKR_DEVICE_REMOVED" "$T/agent.log" ||
	fail "the failed signature did not say \"token removed\""
wait_for 3 sh -c '! ssh-add -l 2>/dev/null | grep -q "p256 (plug"' ||
	fail "key still listed after a removal seen by a signature"
rm "$T/state/absent"
wait_for 3 has_key || fail "key not back after the mid-signature removal"
ssh-add -T "$KEY" || fail "signing after the mid-signature removal"
ok "token pulled mid-signature: refused as \"token removed\", key back on reinsertion"

# keep_on_removal: the PIN survives a replug, so no new prompt.
kill "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null || true
cat > "$T/config.yaml" <<CFG
tokens:
  - name: plug
    module: $WRAP
    uri: "pkcs11:token=plug"
    pin_cache: { keep_on_removal: true }
rescan_interval: 1s
CFG
rm -f "$T/askpass.count"
start_agent --config "$T/config.yaml"
ssh-add -T "$KEY" || fail "signing (keep_on_removal)"
touch "$T/state/absent"
wait_for 3 sh -c '! ssh-add -l 2>/dev/null | grep -q "p256 (plug"' || fail "not withdrawn"
rm "$T/state/absent"
wait_for 3 has_key || fail "not back"
ssh-add -T "$KEY" || fail "signing after replug (keep_on_removal)"
[ "$(prompts)" = 1 ] || fail "keep_on_removal: expected 1 prompt in all, saw $(prompts)"
ok "keep_on_removal: the PIN came back with the token, no new prompt"
