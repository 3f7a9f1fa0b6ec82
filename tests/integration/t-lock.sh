# ssh-add -x / -X lock and unlock; a locked agent lists nothing and signs nothing.
. "$(dirname "$0")/lib.sh"

make_token t1 ed25519
make_askpass "$PIN"
write_config "$T/config.yaml" t1
start_agent --config "$T/config.yaml"
split_pubkeys
ssh-add -T "$T/pub/ed25519.pub" || fail "signing before lock"

make_askpass "lock-pass"
ssh-add -x || fail "ssh-add -x"
ssh-add -l | grep -q SHA256 && fail "a locked agent listed keys"
ssh-add -T "$T/pub/ed25519.pub" 2>/dev/null && fail "a locked agent signed"
ssh-add -x && fail "locking twice succeeded"
ok "locked: no keys listed, no signatures"

make_askpass "wrong-pass"
ssh-add -X && fail "unlock with a wrong passphrase succeeded"
sleep 0.3
make_askpass "lock-pass"
ssh-add -X || fail "ssh-add -X"
ssh-add -l | grep -q SHA256 || fail "no keys after unlock"
make_askpass "$PIN"
ssh-add -T "$T/pub/ed25519.pub" || fail "signing after unlock"
ok "unlock needs the right passphrase, then keys sign again"
