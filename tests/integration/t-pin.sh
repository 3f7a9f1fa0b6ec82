# PIN handling, with askpass scripts that count their calls and OpenSC's pkcs11-spy
# counting C_Login: cache idle and max lifetimes, ssh-add -x/-X, a wrong PIN, and tokens
# one failure away from locking (flags played by tests/p11wrap).
. "$(dirname "$0")/lib.sh"

SPY=$(ls /usr/lib/*/pkcs11/pkcs11-spy.so 2>/dev/null | head -n1)
[ -n "$SPY" ] || fail "OpenSC's pkcs11-spy.so is not installed"
make_token pin p256
use_p11wrap
# Calls go: agent -> pkcs11-spy (logs every call) -> p11wrap (plays flags) -> SoftHSM.
export PKCS11SPY="$WRAP" PKCS11SPY_OUTPUT="$T/spy.log"
prompts() { cat "$T/askpass.count" 2>/dev/null | wc -l; }
logins() { grep -c "C_Login" "$T/spy.log" 2>/dev/null || true; }

# run_agent PIN-CACHE-YAML [PIN-SOURCE]: a fresh agent on the token, through the spy.
run_agent() {
	[ -n "${AGENT_PID:-}" ] && { kill "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null || true; }
	rm -f "$T/askpass.count" "$T/spy.log" "$T/agent.sock"
	cat > "$T/config.yaml" <<CFG
tokens:
  - name: pin
    module: $SPY
    uri: "pkcs11:token=pin"
    pin_cache: $1
    pin: ${2:-askpass}
rescan_interval: 1s
CFG
	start_agent --config "$T/config.yaml"
}

make_askpass "$PIN"
run_agent "{ idle: 2s }"
split_pubkeys
KEY=$T/pub/p256.pub
ssh-add -T "$KEY" || fail "first signature"
ssh-add -T "$KEY" || fail "second signature"
[ "$(prompts)" = 1 ] || fail "within the idle time: expected 1 prompt, saw $(prompts)"
ok "within the idle time: one prompt for two signatures"
sleep 3.5
grep -q "PIN cache expired, logged out" "$T/agent.log" || fail "no expiry logged"
ssh-add -T "$KEY" || fail "signature after the idle expiry"
[ "$(prompts)" = 2 ] || fail "after the idle time: expected a 2nd prompt, saw $(prompts)"
ok "idle expiry: the PIN is wiped, the token logged out, the next use prompts"

run_agent "{ max: 3s }"
for i in 1 2 3 4 5; do ssh-add -T "$KEY" || fail "signature $i"; sleep 1; done
[ "$(prompts)" = 2 ] || fail "max 3s over 5 s of use: expected 2 prompts, saw $(prompts)"
ok "maximum lifetime: use does not extend it (2 prompts in 5 s of steady use)"

run_agent "{ }"
ssh-add -T "$KEY" || fail "signature before lock"
make_askpass "lock-pass"
ssh-add -x || fail "ssh-add -x"
ssh-add -X || fail "ssh-add -X"
before=$(prompts)
make_askpass "$PIN"
ssh-add -T "$KEY" || fail "signature after unlock"
[ "$(prompts)" = $((before + 1)) ] || fail "no PIN prompt after ssh-add -x / -X"
grep -q "C_Logout" "$T/spy.log" || fail "ssh-add -x did not log the token out"
ok "ssh-add -x logs out and forgets the PIN: -X then a signature prompts again"

# A wrong PIN: asked once, tried once, never retried by the agent.
run_agent "{ }"
make_askpass "000000"
ssh-add -T "$KEY" 2>/dev/null && fail "a wrong PIN signed"
[ "$(prompts)" = 1 ] || fail "wrong PIN: expected 1 prompt, saw $(prompts)"
[ "$(logins)" = 1 ] || fail "wrong PIN: expected 1 C_Login, pkcs11-spy saw $(logins)"
grep -q "PinIncorrect: .*PIN incorrect" "$T/agent.log" || fail "no \"PIN incorrect\" reason"
ok "wrong PIN: one prompt, one C_Login (pkcs11-spy), refused as \"PIN incorrect\""

# Final try: a PIN from a file (no one to ask) is never spent on it.
printf '%s\n' "$PIN" > "$T/pin.txt"; chmod 600 "$T/pin.txt"
echo final_try > "$T/state/flags"
run_agent "{ }" "file:$T/pin.txt"
ssh-add -T "$KEY" 2>/dev/null && fail "signed with a stored PIN on the final try"
[ "$(logins)" = 0 ] || fail "final try: the stored PIN was tried ($(logins) C_Login)"
grep -q "PinFinalTry" "$T/agent.log" || fail "final try: no reason given"
ok "final try: the configured PIN is not spent (0 C_Login), the refusal says why"

# Locked: nothing is tried and nobody is asked.
echo locked > "$T/state/flags"
run_agent "{ }"
make_askpass "$PIN"
ssh-add -T "$KEY" 2>/dev/null && fail "a locked token signed"
[ "$(prompts)" = 0 ] || fail "locked: the user was asked for a PIN"
[ "$(logins)" = 0 ] || fail "locked: C_Login was called"
grep -q "PIN locked: unblock with the token's tool" "$T/agent.log" || fail "locked: no reason"
ok "locked: no prompt, no C_Login, \"PIN locked: unblock with the token's tool\""

# Final try with a person to ask: the prompt warns, and one try is what the user typed.
echo final_try > "$T/state/flags"
run_agent "{ }"
cat > "$T/askpass" <<ASK
#!/bin/sh
echo x >> "$T/askpass.count"
printf '%s\n' "\$1" > "$T/askpass.last"
printf '%s\n' "$PIN"
ASK
ssh-add -T "$KEY" || fail "final try, PIN typed by the user"
grep -q "LAST TRY" "$T/askpass.last" || fail "the final-try prompt did not warn"
grep -q 'sign with key "p256"' "$T/askpass.last" || fail "the prompt did not name the key"
ok "final try with a user: the prompt warns and names the key"
