# make bench, guarded execution, from the intermediary with the forwarded agent: the time of
# `true` on the target and of 64 MiB through `cat` there, by p11guard-ssh (relay mode: the
# agent runs the session, every byte through it) and by plain ssh (the agent signs the
# login only); then handoff mode against plain ssh on a second target: 256 MiB through cat
# less the time of `true`, and the latency a handoff adds over relay mode. Wall-clock
# medians of interleaved rounds and the ratios; asserts nothing about speed.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/guarded-lib.sh"
ROUNDS=${BENCH_ROUNDS:-3}
DELEGATE=$top_builddir/p11guard-ssh

# Both targets close forwarding, so that H's sessions are handed off; T's rule relays.
SSHD_ALL_EXTRA="DisableForwarding yes" start_sshd T
SSHD_ALL_EXTRA="DisableForwarding yes" start_sshd H
GUARDED_TARGETS="T H"
GUARDED_SIGN_RULES="    - action: allow                     # plain ssh from I, the baseline
      to: [ \"[127.0.0.1]:$T_PORT\", \"[127.0.0.1]:$H_PORT\" ]
      via: i.test"
GUARDED_RULES_FIRST="    - action: allow
      to: \"[127.0.0.1]:$H_PORT\"
      users: root
      via: i.test
      exec: [ cat, \"true\" ]
      mode: handoff"
guarded_setup '[ cat, "true" ]'
SSH_OPTS="-F /dev/null -o BatchMode=yes -o IdentitiesOnly=yes \
-o IdentityFile=$T/pub/ed25519.pub -o UserKnownHostsFile=$T/known_hosts"
SSH_TO_T="ssh $SSH_OPTS -p $T_PORT root@127.0.0.1"

# seconds CLIENT [MiB]: on I, the wall time of 64 (or MiB) MiB through cat (checked count).
seconds() {
	bytes=$((${2:-64} * 1048576))
	from_i "s=\$(date +%s.%N); n=\$(head -c $bytes /dev/zero | $1 cat | wc -c);
		e=\$(date +%s.%N); [ \"\$n\" = $bytes ] && echo \"\$s \$e\" | awk '{ print \$2 - \$1 }'"
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# true_seconds CLIENT: on I, the wall time of CLIENT running `true` on T.
true_seconds() {
	from_i "s=\$(date +%s.%N); $1 true || exit 1; e=\$(date +%s.%N); echo \"\$s \$e\" |
		awk '{ print \$2 - \$1 }'"
}
for round in $(seq $((ROUNDS + 2))); do
	true_seconds "$DELEGATE -p $T_PORT root@127.0.0.1" >> "$T/relay-true.runs" || fail "p11guard-ssh true"
	true_seconds "$SSH_TO_T" >> "$T/ssh-true.runs" || fail "ssh true"
done
relay_true=$(median < "$T/relay-true.runs"); plain_true=$(median < "$T/ssh-true.runs")
echo
echo "guarded session start: \`true\` on the target, from the intermediary (medians of $((ROUNDS + 2)))"
awk -v r="$relay_true" -v p="$plain_true" 'BEGIN {
	printf "  p11guard-ssh  %6.3f s\n  plain ssh     %6.3f s\n", r, p
	printf "  ratio p11guard-ssh/ssh %.2f (target: at most 1.5)\n", r / p }'
for round in $(seq "$ROUNDS"); do
	seconds "$DELEGATE -p $T_PORT root@127.0.0.1" >> "$T/relay.runs" || fail "p11guard-ssh round"
	seconds "$SSH_TO_T" >> "$T/ssh.runs" || fail "plain ssh round"
done
relay=$(median < "$T/relay.runs"); plain=$(median < "$T/ssh.runs")
echo
echo "guarded relay: 64 MiB through cat on the target, from the intermediary (medians of $ROUNDS)"
awk -v r="$relay" -v p="$plain" 'BEGIN {
	printf "  p11guard-ssh (relay)  %6.2f s  %7.1f MiB/s\n", r, 64 / r
	printf "  plain ssh             %6.2f s  %7.1f MiB/s\n", p, 64 / p
	printf "  ratio relay/plain time %.2f\n", r / p }'

# Handoff: data flows between the intermediary and the server directly. The throughput is
# (256 MiB through cat) less (true), so that the session's start counts for neither.
SSH_TO_H="ssh $SSH_OPTS -p $H_PORT root@127.0.0.1"
HANDOFF_TO_H="$DELEGATE -p $H_PORT root@127.0.0.1"
for round in $(seq "$ROUNDS"); do
	seconds "$HANDOFF_TO_H" 256 >> "$T/handoff-256.runs" || fail "p11guard-ssh handoff round"
	true_seconds "$HANDOFF_TO_H" >> "$T/handoff-true.runs" || fail "p11guard-ssh handoff true"
	seconds "$SSH_TO_H" 256 >> "$T/ssh-256.runs" || fail "plain ssh 256 MiB round"
	true_seconds "$SSH_TO_H" >> "$T/ssh-h-true.runs" || fail "plain ssh true"
	true_seconds "$DELEGATE -p $T_PORT root@127.0.0.1" >> "$T/relay-true-2.runs" ||
		fail "p11guard-ssh relay true"
done
handoff_256=$(median < "$T/handoff-256.runs"); handoff_true=$(median < "$T/handoff-true.runs")
ssh_256=$(median < "$T/ssh-256.runs"); ssh_h_true=$(median < "$T/ssh-h-true.runs")
relay_true_2=$(median < "$T/relay-true-2.runs")
grep -q '"mode":"handoff"' "$T/audit.log" || fail "no session was handed off"
echo
echo "guarded handoff: 256 MiB through cat less the time of true, from the intermediary (medians of $ROUNDS)"
awk -v h="$handoff_256" -v ht="$handoff_true" -v p="$ssh_256" -v pt="$ssh_h_true" \
    -v rt="$relay_true_2" 'BEGIN {
	printf "  p11guard-ssh (handoff)  %6.2f s - %5.3f s  %7.1f MiB/s\n", h, ht, 256 / (h - ht)
	printf "  plain ssh               %6.2f s - %5.3f s  %7.1f MiB/s\n", p, pt, 256 / (p - pt)
	printf "  throughput handoff/plain %.2f (target: at least 0.9)\n", (p - pt) / (h - ht)
	printf "  true: handoff %.3f s, relay %.3f s: the handoff adds %.3f s\n", ht, rt, ht - rt }'
