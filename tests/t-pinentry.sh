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
