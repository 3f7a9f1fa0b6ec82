# t-guarded-tty.sh again with every session handed off to p11guard-ssh (issue 14): the key
# is "restrict,pty" in the target's authorized_keys (forwarding closed, a terminal allowed)
# and every guarded rule says mode: handoff.
GUARDED_HANDOFF=1 GUARDED_KEY_OPTIONS=restrict,pty
. "$(dirname "$0")/t-guarded-tty.sh"
guarded_all_handed_off
