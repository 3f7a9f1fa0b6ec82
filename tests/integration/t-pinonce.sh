# One PIN prompt per ssh run: after a declined PIN prompt or a wrong PIN, the other keys ssh
# offers on the same connection are refused at once with that reason, without prompting
# again (and so without spending PIN tries); a new ssh run asks again.
. "$(dirname "$0")/lib.sh"

make_token t1 p256 p384 ed25519 rsa2048
# The askpass answers PIN prompts with $T/pin.answer, or declines when it is "decline".
cat > "$T/askpass" <<ASK
#!/bin/sh
echo x >> "$T/pin.count"
answer=\$(cat "$T/pin.answer")
[ "\$answer" = decline ] && exit 1
echo "\$answer"
ASK
chmod +x "$T/askpass"
export SSH_ASKPASS="$T/askpass" SSH_ASKPASS_REQUIRE=force DISPLAY=:0
write_config "$T/config.yaml" t1
start_agent --config "$T/config.yaml"
start_sshd A
ssh-add -L | cut -d' ' -f1,2 >> "$T/A.keys"
[ "$(wc -l < "$T/A.keys")" -eq 4 ] || fail "the token's four keys are not listed"
prompts() { cat "$T/pin.count" 2>/dev/null | wc -l; }
# ssh offers every agent key in turn; A accepts each, so each would need a signature.
ssh_all_keys() {
	ssh -F /dev/null -p "$A_PORT" -o BatchMode=yes -o UserKnownHostsFile="$T/known_hosts" \
		-o StrictHostKeyChecking=yes -o PreferredAuthentications=publickey \
		-o ConnectTimeout=10 root@127.0.0.1 true 2>/dev/null
}

echo decline > "$T/pin.answer"
ssh_all_keys && fail "a declined PIN signed"
[ "$(prompts)" -eq 1 ] || fail "$(prompts) PIN prompts for a four-key ssh run, want 1"
[ "$(grep -c "refused sign.*not asked again so soon on this connection" "$T/agent.log")" -eq 3 ] ||
	fail "the other three keys were not refused with the earlier reason"
ok "a declined PIN prompt: one prompt for a four-key ssh run, the other keys refused with its reason"

rm -f "$T/pin.count"
echo 000000 > "$T/pin.answer"
ssh_all_keys && fail "a wrong PIN signed"
[ "$(prompts)" -eq 1 ] || fail "$(prompts) PIN prompts after a wrong PIN, want 1"
ok "a wrong PIN: one prompt and one try for the whole run"

rm -f "$T/pin.count"
echo "$PIN" > "$T/pin.answer"
ssh_all_keys || fail "a new ssh run with the right PIN"
[ "$(prompts)" -eq 1 ] || fail "the new run was not asked for the PIN"
ok "a new connection asks again, and signs with the right PIN"
