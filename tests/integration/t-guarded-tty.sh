# p11guard-ssh -t: an interactive guarded session on a terminal tmux provides. The user's
# ssh -tt to the intermediary gives it a terminal; there p11guard-ssh -t runs an allowed
# command with a pty on the target: tty and stty see one of the right size, a window change
# reaches the command, and the intermediary's terminal is restored after the command ends,
# after Ctrl-C and after a refusal.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/guarded-lib.sh"

command -v tmux > /dev/null || fail "tmux is not installed"
DELEGATE=$top_builddir/p11guard-ssh
start_sshd T
GUARDED_TARGETS=T
GUARDED_RULES="    - action: allow                     # with a terminal
      to: \"[127.0.0.1]:$T_PORT\"
      users: root
      via: i.test
      exec: [ \"tty; stty size; read a; stty size; read b\", \"exec sleep 30\" ]
      pty: true"
guarded_setup '[ "true" ]'
TMUX_SOCK=$T/tmux.sock
export TERM=xterm

# session NAME COMMAND: in a new tmux window of 100x30, ssh -tt to I running, there, the
# terminal's settings, p11guard-ssh -t -p T COMMAND, its exit status and the settings again.
session() {
	cat > "$T/$1.sh" <<SH
stty -g > $T/$1.before
$DELEGATE ${TTY_DELEGATE_OPTS:-} -t -p $T_PORT root@127.0.0.1 '$2'
echo \$? > $T/$1.exit
stty -g > $T/$1.after
SH
	tmux -S "$TMUX_SOCK" new-session -d -s "$1" -x 100 -y 30 \
		"$(command -v ssh) -F /dev/null -tt -p $I_PORT -o BatchMode=yes -o IdentitiesOnly=yes \
		-o IdentityFile=$T/pub/ed25519.pub -o UserKnownHostsFile=$T/known_hosts -A \
		root@127.0.0.1 'sh $T/$1.sh'; sleep 30"
	[ -n "${TMUX_PID:-}" ] || { TMUX_PID=$(tmux -S "$TMUX_SOCK" display -p '#{pid}'); PIDS="$PIDS $TMUX_PID"; }
}
screen() { tmux -S "$TMUX_SOCK" capture-pane -p -t "$1"; }
shows() { screen "$1" | grep -q "$2"; }
restored() {    # restored NAME: exit status as expected and the terminal as before
	wait_for 20 test -s "$T/$1.after" || fail "$1: the session did not end: $(screen "$1")"
	cmp -s "$T/$1.before" "$T/$1.after" ||
		fail "$1: the terminal was not restored: $(cat "$T/$1.before") / $(cat "$T/$1.after")"
}

session size "tty; stty size; read a; stty size; read b"
wait_for 20 shows size "^30 100" || fail "no terminal of 30 rows, 100 columns: $(screen size)"
shows size "^/dev/pts/" || fail "tty names no terminal: $(screen size)"
tmux -S "$TMUX_SOCK" resize-window -t size -x 120 -y 40
sleep 1
tmux -S "$TMUX_SOCK" send-keys -t size "x" Enter
wait_for 10 shows size "^40 120" || fail "the window change did not reach the command: $(screen size)"
tmux -S "$TMUX_SOCK" send-keys -t size "y" Enter
restored size
[ "$(cat "$T/size.exit")" = 0 ] || fail "size: exit $(cat "$T/size.exit")"
ok "-t: a pty of the terminal's size on the target, a window change reaches it, the terminal restored"

session interrupt "exec sleep 30"
wait_for 20 grep -q "exec sleep 30.*accepted\|accepted.*exec sleep 30" "$T/agent.log" ||
	fail "the sleep did not start"
sleep 1
tmux -S "$TMUX_SOCK" send-keys -t interrupt C-c
restored interrupt
[ "$(cat "$T/interrupt.exit")" = 255 ] || fail "Ctrl-C: exit $(cat "$T/interrupt.exit")"
ok "Ctrl-C goes to the command (killed by INT, exit 255), and the terminal is restored"

session refused "id"
restored refused
[ "$(cat "$T/refused.exit")" = 255 ] || fail "refused: exit $(cat "$T/refused.exit")"
ok "after a refusal the terminal is as before"
