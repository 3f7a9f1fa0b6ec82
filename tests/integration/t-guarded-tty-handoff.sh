# t-guarded-tty.sh again with every session handed off to p11guard-ssh (issue 14): the key
# is "restrict,pty" in the target's authorized_keys (forwarding closed, a terminal allowed)
# and every guarded rule says mode: handoff. With -v, p11guard-ssh's own line comes while the
# terminal is raw: it must end in CR LF, or the command's output after it starts mid-line
# (the test's checks of lines starting with "30 100" and "/dev/pts/" would fail).
GUARDED_HANDOFF=1 GUARDED_KEY_OPTIONS=restrict,pty TTY_DELEGATE_OPTS=-v
. "$(dirname "$0")/t-guarded-tty.sh"
shows size "^p11guard-ssh: handed off: the connection to the server is ours now" ||
	fail "-v: no handoff line at the start of a line: $(screen size)"
guarded_all_handed_off
