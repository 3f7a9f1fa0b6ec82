# ssh-add -s / -e add and remove a module; the PIN is checked; -P allowlists module paths.
. "$(dirname "$0")/lib.sh"

make_token t1 p256 ed25519
echo "tokens: []" > "$T/empty.yaml"
module=$(softhsm_module)
start_agent --config "$T/empty.yaml"

[ "$(ssh-add -l | grep -c SHA256)" -eq 0 ] || fail "agent should start empty"
make_askpass 000000
ssh-add -s "$module" && fail "ssh-add -s with a wrong PIN succeeded"
grep -q "PIN incorrect" "$T/agent.log" || fail "wrong PIN not logged as such"
ok "a wrong PIN is refused and logged as PIN incorrect"

make_askpass "$PIN"
ssh-add -s "$module" || fail "ssh-add -s"
[ "$(ssh-add -l | grep -c SHA256)" -eq 2 ] || fail "keys not added"
split_pubkeys
ssh-add -T "$T/pub/p256.pub" || fail "signing with an added key"
ssh-add -s "$module" && fail "adding the same provider twice succeeded"
ok "ssh-add -s adds the module's keys and they sign"

ssh-add -e "$module" || fail "ssh-add -e"
[ "$(ssh-add -l | grep -c SHA256)" -eq 0 ] || fail "keys not removed"
ssh-add -e "$module" && fail "removing a provider that is not there succeeded"
ok "ssh-add -e removes them"

ssh-add -t 2 -s "$module" || fail "ssh-add -t 2 -s"
[ "$(ssh-add -l | grep -c SHA256)" -eq 2 ] || fail "keys with lifetime not added"
sleep 3
[ "$(ssh-add -l | grep -c SHA256)" -eq 0 ] || fail "keys outlived their lifetime"
ok "a lifetime constraint expires the keys"

kill "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null || true
rm -f "$SSH_AUTH_SOCK"
start_agent --config "$T/empty.yaml" -P "/nonexistent/*"
ssh-add -s "$module" && fail "a module outside the -P allowlist was loaded"
grep -q "does not match the allowlist" "$T/agent.log" || fail "allowlist refusal not explained"
ok "-P refuses modules outside the allowlist"
