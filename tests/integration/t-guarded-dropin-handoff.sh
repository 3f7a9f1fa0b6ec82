# t-guarded-dropin.sh again with every session handed off to p11guard-ssh (issue 14): the
# targets close forwarding (DisableForwarding yes) and every guarded rule says mode: handoff.
GUARDED_HANDOFF=1 SSHD_ALL_EXTRA="DisableForwarding yes"
. "$(dirname "$0")/t-guarded-dropin.sh"
guarded_all_handed_off
