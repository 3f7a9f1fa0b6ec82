# p11guard-ssh as ssh for the programs that call ssh (issue 13): git (with and without
# GIT_SSH_VARIANT, core.sshCommand, push allowed by a git-receive-pack rule and refused
# without), scp (SFTP and -O), sftp, ssh's options and configuration (a host alias from a
# -F file, -n), and the options it refuses by name.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/guarded-lib.sh"

DELEGATE=$top_builddir/p11guard-ssh
SSHD_EXTRA="Subsystem sftp internal-sftp" start_sshd T
GUARDED_TARGETS=T
GUARDED_RULES="    - action: allow                     # file transfer, to T only
      to: \"[127.0.0.1]:$T_PORT\"
      users: root
      via: i.test
      subsystems: [ sftp ]"
guarded_setup "[ \"git-upload-pack '$T/repo.git'\", \"git-receive-pack '$T/repo.git'\",
                 \"git-upload-pack '$T/other.git'\", \"scp -t $T/legacy\", \"scp -f $T/legacy\",
                 \"echo alias\", cat,
                 \"rsync --server --sender -logDtpre.iLsfxCIvu . $T/src/*\" ]" '[ GIT_PROTOCOL ]'

# The repository on T, and a second one whose pushes the policy does not allow.
git init -q --bare "$T/repo.git"
git init -q "$T/work"
git -C "$T/work" -c user.name=t -c user.email=t@example.com commit -q --allow-empty -m first
git -C "$T/work" push -q "$T/repo.git" HEAD:refs/heads/main
git -C "$T/repo.git" symbolic-ref HEAD refs/heads/main
git clone -q --bare "$T/repo.git" "$T/other.git"
URL="ssh://root@127.0.0.1:$T_PORT$T/repo.git"

from_i "cd $T && GIT_SSH_COMMAND=$DELEGATE git clone -q $URL clone1" 2> "$T/err" ||
	fail "git clone (variant detected with -G): $(cat "$T/err")"
from_i "cd $T && GIT_SSH_COMMAND=$DELEGATE GIT_SSH_VARIANT=ssh git clone -q $URL clone2" 2> "$T/err" ||
	fail "git clone with GIT_SSH_VARIANT=ssh: $(cat "$T/err")"
git -C "$T/work" -c user.name=t -c user.email=t@example.com commit -q --allow-empty -m second
git -C "$T/work" push -q "$T/repo.git" HEAD:refs/heads/main
from_i "cd $T/clone1 && git -c core.sshCommand=$DELEGATE fetch -q origin" 2> "$T/err" ||
	fail "git fetch through core.sshCommand: $(cat "$T/err")"
[ "$(git -C "$T/clone1" log --format=%s -1 origin/main)" = second ] || fail "fetch got nothing"
ok "git clone and fetch: GIT_SSH_COMMAND with and without GIT_SSH_VARIANT, core.sshCommand"

git -C "$T/clone1" merge -q --ff-only origin/main
git -C "$T/clone1" -c user.name=t -c user.email=t@example.com commit -q --allow-empty -m pushed
from_i "cd $T/clone1 && GIT_SSH_COMMAND=$DELEGATE git push -q origin HEAD:main" 2> "$T/err" ||
	fail "git push allowed by git-receive-pack: $(cat "$T/err")"
[ "$(git -C "$T/repo.git" log --format=%s -1 main)" = pushed ] || fail "the push did not land"
rc=0
from_i "cd $T/clone1 && GIT_SSH_COMMAND=$DELEGATE git push -q ssh://root@127.0.0.1:$T_PORT$T/other.git HEAD:main" \
	2> "$T/err" || rc=$?
[ "$rc" != 0 ] && grep -q "no guarded rule allows the command \"git-receive-pack '$T/other.git'\"" "$T/err" ||
	fail "a push without a git-receive-pack rule: $rc $(cat "$T/err")"
ok "git push: allowed by a git-receive-pack rule, refused without one, with the reason"

head -c 300000 /dev/urandom > "$T/file"
from_i "scp -q -S $DELEGATE -P $T_PORT $T/file root@127.0.0.1:$T/copied" 2> "$T/err" ||
	fail "scp to T (SFTP): $(cat "$T/err")"
cmp -s "$T/file" "$T/copied" || fail "scp to T: the copy differs"
from_i "scp -q -S $DELEGATE -P $T_PORT root@127.0.0.1:$T/copied $T/back" 2> "$T/err" ||
	fail "scp from T (SFTP): $(cat "$T/err")"
cmp -s "$T/file" "$T/back" || fail "scp from T: the copy differs"
from_i "scp -q -O -S $DELEGATE -P $T_PORT $T/file root@127.0.0.1:$T/legacy" 2> "$T/err" ||
	fail "scp -O to T: $(cat "$T/err")"
from_i "scp -q -O -S $DELEGATE -P $T_PORT root@127.0.0.1:$T/legacy $T/legacy-back" 2> "$T/err" ||
	fail "scp -O from T: $(cat "$T/err")"
cmp -s "$T/file" "$T/legacy-back" || fail "scp -O: the copy differs"
printf 'put %s %s\nget %s %s\n' "$T/file" "$T/sftp-put" "$T/sftp-put" "$T/sftp-get" > "$T/batch"
from_i "sftp -q -S $DELEGATE -P $T_PORT -b $T/batch root@127.0.0.1" > /dev/null 2> "$T/err" ||
	fail "sftp -b: $(cat "$T/err")"
cmp -s "$T/file" "$T/sftp-get" || fail "sftp: the copy differs"
ok "scp both ways in SFTP mode and with -O, sftp in batch mode"

# rsync: one direction for one directory, by a template with an unquoted '*' (rsync does not
# quote; there '*' matches only characters a shell gives no meaning, never "..").
mkdir -p "$T/src/sub" "$T/secret"
head -c 100000 /dev/urandom > "$T/src/sub/data"
echo secret > "$T/secret/key"
from_i "rsync -a -e '$DELEGATE -p $T_PORT' root@127.0.0.1:$T/src/ $T/dst/" 2> "$T/err" ||
	fail "rsync pull: $(cat "$T/err")"
cmp -s "$T/src/sub/data" "$T/dst/sub/data" || fail "rsync: the copy differs"
rc=0
from_i "rsync -a -e '$DELEGATE -p $T_PORT' root@127.0.0.1:$T/secret/ $T/stolen/" 2> "$T/err" || rc=$?
[ "$rc" != 0 ] && [ ! -e "$T/stolen/key" ] && grep -q "no guarded rule allows the command \"rsync --server --sender .* $T/secret/\"" "$T/err" ||
	fail "rsync of another path: $rc $(cat "$T/err")"
rc=0
from_i "rsync -a -e '$DELEGATE -p $T_PORT' $T/secret/ root@127.0.0.1:$T/src/" 2> "$T/err" || rc=$?
[ "$rc" != 0 ] && [ ! -e "$T/src/key" ] || fail "rsync push to the allowed path: $rc"
rc=0
from_i "rsync -a -e '$DELEGATE -p $T_PORT' root@127.0.0.1:$T/src/../secret/ $T/climbed/" 2> "$T/err" || rc=$?
[ "$rc" != 0 ] && [ ! -e "$T/climbed/key" ] || fail "rsync out of the directory with ..: $rc"
ok "rsync -e p11guard-ssh: a pull under one directory by a template; another path, .. or the other direction refused"

cat > "$T/ssh_config" <<CONF
Host target
	HostName 127.0.0.1
	Port $T_PORT
	User root
CONF
out=$(from_i "$DELEGATE -F $T/ssh_config target 'echo alias'") || fail "a host alias: $out"
[ "$out" = alias ] || fail "a host alias: \"$out\""
grep -q "runs the command \"echo alias\" as root on \[127.0.0.1\]:$T_PORT" "$T/agent.log" ||
	fail "the policy did not see the resolved name"
out=$(echo "not read" | from_i "$DELEGATE -n -p $T_PORT root@127.0.0.1 cat") || fail "-n: $out"
[ -z "$out" ] || fail "-n: the command read \"$out\""
ok "a host alias of an ssh_config file resolves, and the policy sees the resolved name; -n"

# refused WHAT OPTION...: p11guard-ssh with OPTION exits 255 and names WHAT, printing nothing.
refused() {
	what=$1; shift
	rc=0
	"$DELEGATE" "$@" -p "$T_PORT" root@127.0.0.1 'echo alias' > "$T/out" 2> "$T/err" || rc=$?
	[ "$rc" = 255 ] && grep -q "$what" "$T/err" && [ ! -s "$T/out" ] ||
		fail "$*: exit $rc, $(cat "$T/err")"
}
refused "agent forwarding" -A
refused "local port forwarding" -L 1234:localhost:22
refused "remote port forwarding" -R 1234:localhost:22
refused "dynamic" -D 1080
refused "X11 forwarding" -X
refused "a jump host" -J jump
refused "stdio forwarding" -W h:22
refused "connection sharing" -M
refused "jump host" -o ProxyJump=jump
refused "proxy command" -o ProxyCommand=nc
refused "agent forwarding" -o ForwardAgent=yes
refused "X11 forwarding" -o "ForwardX11 yes"
refused "local port forwarding" -o "LocalForward=1234 localhost:22"
refused "connection sharing" -o ControlMaster=auto
ok "forwardings, proxies and connection sharing are refused by name, exit 255"
