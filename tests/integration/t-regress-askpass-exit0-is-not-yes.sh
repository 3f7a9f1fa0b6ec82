# Regression (issue 10): an askpass that exits 0 approved every confirmation, whatever it
# printed. An askpass that answers every prompt with the PIN, as the old demo's did, must
# approve none: not a `confirm: always` rule, not the built-in "forwarded use asks", not a
# key added with ssh-add -c.
. "$(dirname "$0")/lib.sh"

make_token t1 p256
cat > "$T/askpass" <<ASK
#!/bin/sh
echo $PIN
ASK
chmod +x "$T/askpass"
export SSH_ASKPASS="$T/askpass" SSH_ASKPASS_REQUIRE=force DISPLAY=:0
module=$(softhsm_module)
other="declined: the prompt answered something other than yes"

cat > "$T/config.yaml" <<CFG
tokens:
  - name: t1
    module: $module
    uri: "pkcs11:token=t1"
policy:
  default: deny
  rules:
    - action: allow
      confirm: always
CFG
start_agent --config "$T/config.yaml"
split_pubkeys
KEY=$T/pub/p256.pub
ssh-add -T "$KEY" 2>/dev/null && fail "a PIN-printing askpass approved a confirm: always rule"
grep -q "refused sign.*$other" "$T/agent.log" || fail "no reason in the log"
ok "confirm: always is not approved by an askpass that prints the PIN"

kill "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null || true
echo "tokens: []" > "$T/empty.yaml"
start_agent --config "$T/empty.yaml"
ssh-add -c -s "$module" > /dev/null 2>&1 || fail "ssh-add -c -s"
ssh-add -T "$KEY" 2>/dev/null && fail "a PIN-printing askpass approved an ssh-add -c key"
grep -q "refused sign.*$other" "$T/agent.log" || fail "no reason in the log for ssh-add -c"
ok "an ssh-add -c key is not approved by it"

ssh-add -D > /dev/null 2>&1
ssh-add -s "$module" > /dev/null 2>&1 || fail "ssh-add -s"
start_sshd A; start_sshd B
ssh-keygen -q -t ed25519 -N '' -f "$T/k0"
cat "$T/k0.pub" >> "$T/B.keys"; cat "$KEY" >> "$T/A.keys"
ssh_run "$B_PORT" "$T/k0" -A root@127.0.0.1 "$(inner_ssh "$A_PORT" "$KEY")" 2>/dev/null &&
	fail "the built-in policy's forwarded confirmation was approved by it"
grep -c "Accepted publickey" "$T/sshd-A.log" | grep -qx 0 || fail "A accepted the login"
grep -q "refused sign.*built-in.*$other" "$T/agent.log" || fail "no reason for the forwarded use"
ok "the built-in policy's forwarded use is not approved by it"
