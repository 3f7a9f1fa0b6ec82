# t-guarded.sh again with every session handed off to p11guard-ssh (issue 14): exit status and
# stderr, 8 MiB of paced input, 64 MiB of output, a stalling reader, refusals, two hops,
# ServerAlive and the audit. The key is "restrict" in the target's authorized_keys, which
# closes forwarding for it alone (the hop J must still forward the agent). Its last part,
# a running session ending with the agent, is relay mode's alone.
GUARDED_HANDOFF=1 GUARDED_KEY_OPTIONS=restrict
. "$(dirname "$0")/t-guarded.sh"
