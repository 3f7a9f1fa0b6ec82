# Confirmations: only an explicit yes approves a signature, each answer checked by a real
# signature (ssh-add -T); one prompt at a time; a forwarding hop whose prompts were declined
# three times within a minute is refused without prompts.
. "$(dirname "$0")/lib.sh"

make_token t1 p256
# The askpass gives the PIN, and answers a confirmation with the bytes of $T/confirm.out and
# the exit status in $T/confirm.status; in $T/confirm.mode "hang" it never answers, in
# "flood" it says no after 0.3 s and records in $T/overlap any prompt shown beside another.
cat > "$T/askpass" <<ASK
#!/bin/sh
if [ "\${SSH_ASKPASS_PROMPT:-}" = confirm ]; then
	echo x >> "$T/confirm.count"
	case \$(cat "$T/confirm.mode") in
	hang) exec sleep 30 ;;
	flood)
		mkdir "$T/onscreen" 2>/dev/null || echo x >> "$T/overlap"
		sleep 0.3; rmdir "$T/onscreen"; exit 1 ;;
	esac
	cat "$T/confirm.out"
	exit \$(cat "$T/confirm.status")
fi
printf '%s\n' "$PIN"
ASK
chmod +x "$T/askpass"
export SSH_ASKPASS="$T/askpass" SSH_ASKPASS_REQUIRE=force DISPLAY=:0
echo answer > "$T/confirm.mode"

cat > "$T/config.yaml" <<CFG
tokens:
  - name: t1
    module: $(softhsm_module)
    uri: "pkcs11:token=t1"
    pin: askpass
prompt_timeout: 2s
policy:
  default: deny
  rules:
    - action: allow
      via: any
      confirm: always
CFG
start_agent --config "$T/config.yaml"
split_pubkeys
KEY=$T/pub/p256.pub

# answer STATUS PRINTF-FORMAT: what the askpass prints for the next confirmation.
answer() { echo "$1" > "$T/confirm.status"; printf "$2" > "$T/confirm.out"; }
prompts() { cat "$T/confirm.count" 2>/dev/null | wc -l; }

# approves NAME: ssh-add -T signs after exactly one confirmation.
approves() {
	before=$(prompts)
	ssh-add -T "$KEY" 2> "$T/sign.err" || fail "$1 did not approve: $(cat "$T/sign.err")"
	[ "$(prompts)" -eq $((before + 1)) ] || fail "$1: not asked exactly once"
}
# declines NAME REASON: the signature is refused after one prompt (or none, with `0` as
# $3), and the agent's log says why.
declines() {
	before=$(prompts)
	: > "$T/agent.log.mark"; lines=$(wc -l < "$T/agent.log")
	ssh-add -T "$KEY" 2>/dev/null && fail "$1 approved a signature"
	[ "$(prompts)" -eq $((before + ${3:-1})) ] || fail "$1: $(($(prompts) - before)) prompts"
	wait_for 3 sh -c "tail -n +$((lines + 1)) '$T/agent.log' | grep -q 'refused sign.*$2'" ||
		fail "$1: no refusal saying \"$2\" in the log"
}

answer 0 '';         approves "empty output"
answer 0 'yes';      approves "yes"
answer 0 'YES';      approves "YES"
answer 0 'yes\n';    approves "yes and a newline"
answer 0 'yes\r\n';  approves "yes and CR LF"
ok "approved: empty output, yes, YES, yes + LF, yes + CR LF"

other="declined: the prompt answered something other than yes"
answer 0 '123456\n';         declines "a PIN" "$other"
answer 0 'no\n';             declines "no" "$other"
answer 0 'y\n';              declines "y" "$other"
answer 0 'yes\nsecond\n';    declines "yes then a second line" "$other"
answer 0 'yes\n\n';          declines "yes and two newlines" "$other"
answer 0 ' yes';             declines "a space and yes" "$other"
answer 1 'yes\n';            declines "yes with exit 1" "declined: the prompt exited with status 1"
answer 1 '';                 declines "no output with exit 1" "exited with status 1"
echo hang > "$T/confirm.mode"
declines "a prompt that hangs" "declined: no answer from .* within 2 s"
echo answer > "$T/confirm.mode"
mv "$T/askpass" "$T/askpass.away"
declines "a missing askpass" "declined: cannot run the SSH_ASKPASS program" 0
mv "$T/askpass.away" "$T/askpass"
ok "declined, each with its reason: a PIN, no, y, yes + a second line, exit 1, a hang, no program"

# Flooding from a forwarding hop: six requests at once through B.
start_sshd B
ssh-keygen -q -t ed25519 -N '' -f "$T/k0"
cat "$T/k0.pub" >> "$T/B.keys"
echo flood > "$T/confirm.mode"
rm -f "$T/confirm.count"
ssh_run "$B_PORT" "$T/k0" -A root@127.0.0.1 \
	"for i in 1 2 3 4 5 6; do SSH_ASKPASS=/bin/false ssh-add -T $KEY 2>/dev/null & done; wait" ||
	true
[ -f "$T/overlap" ] && fail "two confirmations were on screen at once"
[ "$(prompts)" -eq 3 ] || fail "$(prompts) prompts for six requests from one hop, want 3"
grep -q "declined without asking: 3 confirmations for requests through SHA256:" \
	"$T/agent.log" || fail "the held-off requests do not say why"
ssh_run "$B_PORT" "$T/k0" -A root@127.0.0.1 "ssh-add -T $KEY" 2>/dev/null &&
	fail "a held-off hop got a signature"
[ "$(prompts)" -eq 3 ] || fail "a held-off hop was prompted again"
ok "a flooding hop: one prompt at a time, three declines, then refusals without prompts"

echo answer > "$T/confirm.mode"
answer 0 yes
approves "a local request while B is held off"
ok "the hold is for that hop only: a local request is still asked"
