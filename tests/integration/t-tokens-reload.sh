# Tokens on reload: SIGHUP re-reads the tokens section. ssh-add -D then a reload brings the
# configured tokens back; a reload that adds one token and drops another leaves the token
# that stays alone, its PIN still cached.
. "$(dirname "$0")/lib.sh"

make_token t1 p256
make_token t2 ed25519
make_token t3 rsa2048
make_askpass "$PIN"
write_config "$T/all.yaml" t1 t2 t3
pubkeys_from_tokens "$T/all.yaml"
write_config "$T/config.yaml" t1 t2
start_agent --config "$T/config.yaml"
keys() { ssh-add -l 2>/dev/null | grep -c SHA256 || true; }
prompts() { cat "$T/askpass.count" 2>/dev/null | wc -l; }
hup() {         # hup WANT: reload, then wait for WANT keys
	kill -HUP "$AGENT_PID"
	wait_for 10 sh -c "[ \$(ssh-add -l 2>/dev/null | grep -c SHA256) -eq $1 ]" ||
		fail "after reload $(keys) keys, want $1"
}
[ "$(keys)" -eq 2 ] || fail "$(keys) keys at start, want 2"

ssh-add -D 2>/dev/null || fail "ssh-add -D"
[ "$(keys)" -eq 0 ] || fail "ssh-add -D left configured tokens"
hup 2
ssh-add -T "$T/pub/p256.pub" || fail "signing with t1 after -D and reload"
ok "ssh-add -D removes configured tokens, and a reload serves them again"

before=$(prompts)
write_config "$T/config.yaml" t1 t3
hup 2
ssh-add -l | grep -q "ed25519" && fail "t2 is still served after its entry left the file"
ssh-add -l | grep -q "rsa2048" || fail "t3 is not served after its entry was added"
ssh-add -T "$T/pub/p256.pub" || fail "signing with t1 after the reload"
[ "$(prompts)" -eq "$before" ] || fail "t1's cached PIN was lost by a reload that kept t1"
grep -q 'token "t2": no longer in the configuration' "$T/agent.log" || fail "t2's removal not logged"
ok "a reload adds t3 and drops t2; t1 stays served, its PIN still cached"
