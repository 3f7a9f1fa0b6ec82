# Notices while a token works: a slow signature (a touch policy, played by a delay in
# tests/p11wrap) runs the notifier, which is told to close when the signature is done;
# a fast one shows nothing; a PIN pad login tells the user at once to use the pad.
. "$(dirname "$0")/lib.sh"

make_token slow p256
make_askpass "$PIN"
use_p11wrap
cat > "$T/notifier" <<SH
#!/bin/sh
echo "shown: \$1 | \$2" >> "$T/notices"
trap 'echo closed >> "$T/notices"; exit 0' INT
while :; do sleep 0.1; done
SH
chmod +x "$T/notifier"
cat > "$T/config.yaml" <<CFG
tokens:
  - name: slow
    module: $WRAP
    uri: "pkcs11:token=slow"
notify:
  after: 1s
  command: $T/notifier
CFG
start_agent --config "$T/config.yaml"
split_pubkeys
KEY=$T/pub/p256.pub

ssh-add -T "$KEY" || fail "fast signature"
sleep 1.5
[ -f "$T/notices" ] && fail "a fast signature showed a notice: $(cat "$T/notices")"
ok "a fast signature shows no notice"

echo 2500 > "$T/state/sign-delay"
ssh-add -T "$KEY" || fail "slow signature"
rm "$T/state/sign-delay"
wait_for 3 grep -q closed "$T/notices" || fail "the notice was not closed: $(cat "$T/notices" 2>&1)"
grep -q 'shown: p11guard: touch or confirm on your token | Token slow #.* is waiting to sign with key "p256"' \
	"$T/notices" || fail "the notice does not name the key: $(cat "$T/notices")"
# The agent logs the end after the notifier has gone, which may be after "closed" appears.
wait_for 3 grep -q "touch or confirm on your token: done" "$T/agent.log" ||
	fail "the notice was not logged"
ok "a slow signature shows a notice naming token and key, closed when it completes"

# A PIN pad: nothing is asked, the user is told to type on the pad.
kill "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null || true
rm -f "$T/notices" "$T/askpass.count"
echo pinpad > "$T/state/flags"
echo "$PIN" > "$T/state/pad-pin"
start_agent --config "$T/config.yaml"
ssh-add -T "$KEY" || fail "signature after a PIN pad login"
[ -f "$T/askpass.count" ] && fail "a PIN was asked although the token has a PIN pad"
wait_for 3 grep -q closed "$T/notices" || fail "no PIN pad notice closed"
grep -q "shown: p11guard: enter the PIN on the reader's PIN pad" "$T/notices" ||
	fail "the user was not told to use the PIN pad: $(cat "$T/notices")"
ok "PIN pad: no prompt, the user is told to type the PIN on the pad"
