/* Terminal modes, size and raw mode for p11guard-ssh -t. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "delegate-tty.h"

/* RFC 4254 section 8: the opcodes of the special characters and of the flags. */
static const struct { uint8_t op; int index; } chars[] = {
	{ 1, VINTR }, { 2, VQUIT }, { 3, VERASE }, { 4, VKILL }, { 5, VEOF }, { 6, VEOL },
	{ 7, VEOL2 }, { 8, VSTART }, { 9, VSTOP }, { 10, VSUSP }, { 12, VREPRINT },
	{ 13, VWERASE }, { 14, VLNEXT }, { 18, VDISCARD },
};
static const struct { uint8_t op; int field; tcflag_t bit; } flags[] = {
	{ 30, 0, IGNPAR }, { 31, 0, PARMRK }, { 32, 0, INPCK }, { 33, 0, ISTRIP },
	{ 34, 0, INLCR }, { 35, 0, IGNCR }, { 36, 0, ICRNL }, { 38, 0, IXON }, { 39, 0, IXANY },
	{ 40, 0, IXOFF }, { 41, 0, IMAXBEL }, { 42, 0, IUTF8 },
	{ 50, 1, ISIG }, { 51, 1, ICANON }, { 53, 1, ECHO }, { 54, 1, ECHOE }, { 55, 1, ECHOK },
	{ 56, 1, ECHONL }, { 57, 1, NOFLSH }, { 58, 1, TOSTOP }, { 59, 1, IEXTEN },
	{ 60, 1, ECHOCTL }, { 61, 1, ECHOKE }, { 62, 1, PENDIN },
	{ 70, 2, OPOST }, { 72, 2, ONLCR }, { 73, 2, OCRNL }, { 74, 2, ONOCR }, { 75, 2, ONLRET },
	{ 90, 3, CS7 }, { 91, 3, CS8 }, { 92, 3, PARENB }, { 93, 3, PARODD },
};

static struct termios saved;
static volatile sig_atomic_t raw;

/* The line speed in baud, as the request wants it. */
static uint32_t baud(speed_t s)
{
	static const struct { speed_t code; uint32_t baud; } speeds[] = {
		{ B1200, 1200 }, { B2400, 2400 }, { B4800, 4800 }, { B9600, 9600 },
		{ B19200, 19200 }, { B38400, 38400 }, { B57600, 57600 }, { B115200, 115200 },
		{ B230400, 230400 },
	};

	for (size_t i = 0; i < sizeof(speeds) / sizeof(speeds[0]); i++)
		if (speeds[i].code == s)
			return speeds[i].baud;
	return 38400;
}

static int put_mode(struct wbuf *b, uint8_t op, uint32_t value)
{
	return wbuf_put_u8(b, op) == ERR_OK && wbuf_put_u32(b, value) == ERR_OK ? 0 : -1;
}

int delegate_tty_describe(struct ssh_pty *pty, struct wbuf *modes)
{
	const char *term = getenv("TERM");
	struct termios t;
	uint32_t size[4];
	int r = 0;

	if (tcgetattr(STDIN_FILENO, &t) != 0)
		return -1;
	for (size_t i = 0; i < sizeof(chars) / sizeof(chars[0]) && r == 0; i++)
		r = put_mode(modes, chars[i].op, t.c_cc[chars[i].index]);
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]) && r == 0; i++) {
		tcflag_t field = flags[i].field == 0 ? t.c_iflag : flags[i].field == 1 ? t.c_lflag :
		                 flags[i].field == 2 ? t.c_oflag : t.c_cflag;

		r = put_mode(modes, flags[i].op, (field & flags[i].bit) == flags[i].bit);
	}
	if (r == 0)
		r = put_mode(modes, 128, baud(cfgetispeed(&t))) == 0 &&
		    put_mode(modes, 129, baud(cfgetospeed(&t))) == 0 &&
		    wbuf_put_u8(modes, 0) == ERR_OK ? 0 : -1;
	delegate_tty_size(size);
	*pty = (struct ssh_pty){ term != NULL && term[0] != '\0' ? term : "dumb", size[0], size[1],
	                         size[2], size[3], wbuf_ptr(modes), wbuf_avail(modes) };
	return r;
}

void delegate_tty_size(uint32_t size[4])
{
	struct winsize w;

	memset(size, 0, 4 * sizeof(*size));
	if (ioctl(STDIN_FILENO, TIOCGWINSZ, &w) == 0) {
		size[0] = w.ws_col;
		size[1] = w.ws_row;
		size[2] = w.ws_xpixel;
		size[3] = w.ws_ypixel;
	}
}

void delegate_tty_restore(void)
{
	if (raw) {
		raw = 0;
		(void)tcsetattr(STDIN_FILENO, TCSADRAIN, &saved);
	}
}

const char *delegate_tty_eol(void)
{
	return raw ? "\r\n" : "\n";
}

static volatile sig_atomic_t resized;

static void on_winch(int sig)
{
	(void)sig;
	resized = 1;
}

int delegate_tty_watch_size(void)
{
	struct sigaction sa = { .sa_handler = on_winch };

	sigemptyset(&sa.sa_mask);
	return sigaction(SIGWINCH, &sa, NULL);
}

int delegate_tty_resized(void)
{
	int was = resized;

	resized = 0;
	return was;
}

/* A terminating signal: the terminal back as it was, then the signal's default. */
static void on_signal(int sig)
{
	delegate_tty_restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

int delegate_tty_raw(void)
{
	static const int terminating[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM };
	struct termios t;

	if (tcgetattr(STDIN_FILENO, &saved) != 0)
		return -1;
	t = saved;
	/* As ssh's raw mode: bytes go through unchanged, the remote terminal does the rest. */
	t.c_iflag |= IGNPAR;
	t.c_iflag &= ~(tcflag_t)(ISTRIP | INLCR | IGNCR | ICRNL | IXON | IXANY | IXOFF);
	t.c_lflag &= ~(tcflag_t)(ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHONL | IEXTEN);
	t.c_oflag &= ~(tcflag_t)OPOST;
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	atexit(delegate_tty_restore);
	for (size_t i = 0; i < sizeof(terminating) / sizeof(terminating[0]); i++)
		signal(terminating[i], on_signal);
	if (tcsetattr(STDIN_FILENO, TCSADRAIN, &t) != 0)
		return -1;
	raw = 1;
	return 0;
}
