# t-guarded-dropin.sh again with every session handed off to p11guard-ssh (issue 14): the
# key is "restrict" in the targets' authorized_keys (forwarding closed for it alone) and
# every guarded rule says mode: handoff.
GUARDED_HANDOFF=1 GUARDED_KEY_OPTIONS=restrict
. "$(dirname "$0")/t-guarded-dropin.sh"
guarded_all_handed_off
