# `p11guard tty`: an agent started without GPG_TTY (as a service is) learns from a shell which
# terminal pinentry-curses should draw on; a confirmation then shows there and is answered
# there. Names that are not the user's terminals are refused.
. "$(dirname "$0")/lib.sh"

PINENTRY=/usr/bin/pinentry-curses
[ -x "$PINENTRY" ] || fail "pinentry-curses is not installed"
command -v tmux > /dev/null || fail "tmux is not installed"
make_token tt p256
make_askpass "$PIN"
cat > "$T/config.yaml" <<CFG
tokens:
  - name: tt
    module: $(softhsm_module)
    uri: "pkcs11:token=tt"
    pin: askpass
    confirm_prompt: pinentry:$PINENTRY
policy:
  default: deny
  rules:
    - action: allow
      confirm: always
CFG
unset GPG_TTY
start_agent --config "$T/config.yaml"
split_pubkeys
KEY=$T/pub/p256.pub

TMUX_SOCK=$T/tmux.sock
tmux -S "$TMUX_SOCK" new-session -d -x 120 -y 30 "env TERM=xterm sh"
PIDS="$PIDS $(tmux -S "$TMUX_SOCK" display -p '#{pid}')"
PANE_TTY=$(tmux -S "$TMUX_SOCK" display -p '#{pane_tty}')
screen() { tmux -S "$TMUX_SOCK" capture-pane -p; }
tmux -S "$TMUX_SOCK" send-keys "SSH_AUTH_SOCK=$SSH_AUTH_SOCK $CLI tty; echo tty-exit=\$?" Enter
wait_for 10 sh -c "tmux -S '$TMUX_SOCK' capture-pane -p | grep -q 'tty-exit=0'" ||
	fail "p11guard tty in the pane: $(screen)"
grep -q "pinentry's terminal is now $PANE_TTY (TERM=xterm)" "$T/agent.log" ||
	fail "the agent did not take the pane's terminal"
ok "p11guard tty, run in a tmux pane, names the pane's terminal to the agent"

# As a user would: the command that needs the key runs in that terminal, in the foreground.
tmux -S "$TMUX_SOCK" send-keys "clear; SSH_AUTH_SOCK=$SSH_AUTH_SOCK ssh-add -T $KEY; echo sign-exit=\$?" Enter
wait_for 10 sh -c "tmux -S '$TMUX_SOCK' capture-pane -p | grep -q 'Allow a signature with key'" ||
	fail "the confirmation did not show in the pane: $(screen)"
tmux -S "$TMUX_SOCK" send-keys Enter                    # <Allow>
wait_for 10 sh -c "tmux -S '$TMUX_SOCK' capture-pane -p | grep -q 'sign-exit=0'" ||
	fail "Allow in the pane did not sign: $(screen)"
ok "a pinentry-curses confirmation showed in that pane and Allow there signed"

out=$("$CLI" tty < /dev/null 2>&1) && fail "p11guard tty without a terminal succeeded"
echo "$out" | grep -q "standard input is not a terminal" || fail "no reason: $out"
out=$("$CLI" tty /etc/passwd 2>&1) && fail "a file was accepted as the terminal"
echo "$out" | grep -q "the agent refused: .*\"/etc/passwd\" is not a terminal of this user" ||
	fail "no refusal reason for /etc/passwd: $out"
out=$("$CLI" tty /dev/null 2>&1) && fail "/dev/null was accepted as the terminal"
echo "$out" | grep -q "\"/dev/null\" is not a terminal of this user" || fail "no reason: $out"
out=$(env -u SSH_AUTH_SOCK "$CLI" tty "$PANE_TTY" 2>&1) && fail "no agent, yet success"
echo "$out" | grep -q "SSH_AUTH_SOCK is not set" || fail "no reason without an agent: $out"
ok "p11guard tty refuses files, no terminal and no agent, each with its reason"
