# PINs through a real pinentry (pinentry-curses, Assuan), on a terminal that tmux provides:
# the prompt names token and key, the typed PIN logs in, and Cancel refuses.
. "$(dirname "$0")/lib.sh"

PINENTRY=/usr/bin/pinentry-curses
[ -x "$PINENTRY" ] || fail "pinentry-curses is not installed"
command -v tmux > /dev/null || fail "tmux is not installed"
make_token pe p256
TMUX_SOCK=$T/tmux.sock
tmux -S "$TMUX_SOCK" new-session -d -x 120 -y 30 "sleep 600"
PIDS="$PIDS $(tmux -S "$TMUX_SOCK" display -p '#{pid}')"
export GPG_TTY=$(tmux -S "$TMUX_SOCK" display -p '#{pane_tty}') TERM=xterm
screen() { tmux -S "$TMUX_SOCK" capture-pane -p; }

cat > "$T/config.yaml" <<CFG
tokens:
  - name: pe
    module: $(softhsm_module)
    uri: "pkcs11:token=pe"
    pin: pinentry:$PINENTRY
CFG
start_agent --config "$T/config.yaml"
split_pubkeys
KEY=$T/pub/p256.pub

ssh-add -T "$KEY" 2> "$T/sign1.err" &
SIGN=$!
wait_for 10 sh -c "tmux -S '$TMUX_SOCK' capture-pane -p | grep -q 'PIN:'" ||
	fail "pinentry did not show on the terminal: $(screen)"
screen | grep -q "token pe" || fail "the pinentry text does not name the token: $(screen)"
screen | grep -q 'sign with key "p256"' || fail "the pinentry text does not name the key"
tmux -S "$TMUX_SOCK" send-keys "$PIN" Enter
wait "$SIGN" || fail "signing with the PIN typed into pinentry: $(cat "$T/sign1.err")"
ok "pinentry-curses asked on the terminal, named token and key; the typed PIN signed"

# Cancel: the signature is refused and says so.
kill "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null || true
start_agent --config "$T/config.yaml"
ssh-add -T "$KEY" 2>/dev/null &
SIGN=$!
wait_for 10 sh -c "tmux -S '$TMUX_SOCK' capture-pane -p | grep -q 'PIN:'" ||
	fail "pinentry did not show again"
tmux -S "$TMUX_SOCK" send-keys Tab Tab Enter     # to <Cancel>, and press it
wait "$SIGN" && fail "a cancelled pinentry signed"
wait_for 3 grep -q "PIN entry was cancelled" "$T/agent.log" || fail "no \"cancelled\" reason"
ok "Cancel in pinentry: refused as \"PIN entry was cancelled\""

# Confirmations through pinentry: with `pin: pinentry` they go to the same pinentry unless
# confirm_prompt says otherwise. Allow approves; Deny, closing it, its timeout and a missing
# program decline, each with its reason.
cat > "$T/confirm.yaml" <<CFG
tokens:
  - name: pe
    module: $(softhsm_module)
    uri: "pkcs11:token=pe"
    pin: pinentry:$PINENTRY
prompt_timeout: 4s
policy:
  default: deny
  rules:
    - action: allow
      confirm: always
CFG
restart_agent() {
	kill "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null || true
	start_agent --config "$1"
}
showing() {     # showing TEXT: waits until the terminal shows TEXT
	wait_for 10 sh -c "tmux -S '$TMUX_SOCK' capture-pane -p | grep -q '$1'" ||
		fail "pinentry did not show \"$1\": $(screen)"
}
refusal() {     # refusal TEXT: the agent logged a refused signature saying TEXT
	wait_for 8 grep -q "refused sign.*$1" "$T/agent.log" || fail "no refusal saying \"$1\""
}
restart_agent "$T/confirm.yaml"
ssh-add -T "$KEY" 2> "$T/sign2.err" &
SIGN=$!
showing "Allow a signature with key"
screen | grep -q "<Allow>" && screen | grep -q "<Deny>" || fail "no Allow/Deny: $(screen)"
screen | grep -q 'Token: pe' || fail "the confirmation does not name the token: $(screen)"
tmux -S "$TMUX_SOCK" send-keys Enter                    # <Allow>
showing "PIN:"
tmux -S "$TMUX_SOCK" send-keys "$PIN" Enter
wait "$SIGN" || fail "Allow in pinentry did not sign: $(cat "$T/sign2.err")"
ok "pinentry-curses confirmation (from pin: pinentry): Allow, then the PIN, signs"

ssh-add -T "$KEY" 2>/dev/null &
SIGN=$!
showing "Allow a signature with key"
tmux -S "$TMUX_SOCK" send-keys Tab Enter                # to <Deny>, and press it
wait "$SIGN" && fail "Deny in pinentry signed"
refusal "declined: $PINENTRY: Deny was chosen in pinentry"
ok "Deny declines"

ssh-add -T "$KEY" 2>/dev/null &
SIGN=$!
showing "Allow a signature with key"
pkill -x pinentry-curses || fail "no pinentry-curses to close"
wait "$SIGN" && fail "a closed pinentry signed"
refusal "declined: $PINENTRY: pinentry: no answer in time, or it went away"
ok "closing pinentry declines"

ssh-add -T "$KEY" 2>/dev/null &
SIGN=$!
showing "Allow a signature with key"
wait "$SIGN" && fail "an unanswered pinentry signed"
refusal "declined: $PINENTRY: no answer in pinentry within 4 s"
ok "the prompt timeout declines"

sed "s#^prompt_timeout:#confirm_prompt: pinentry:$T/no-such-pinentry\nprompt_timeout:#" \
	"$T/confirm.yaml" > "$T/missing.yaml"
restart_agent "$T/missing.yaml"
ssh-add -T "$KEY" 2>/dev/null && fail "a missing pinentry program signed"
refusal "declined: $T/no-such-pinentry: cannot run the pinentry program: No such file"
ok "a missing pinentry program declines (confirm_prompt at the top level wins over pin:)"
