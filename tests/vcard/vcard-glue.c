/*
 * Test glue: a virtual CAC smartcard (libcacard, keys in an NSS database) plugged into a
 * real pcscd through the vpcd reader driver (vsmartcard). We connect to vpcd on a loopback
 * port; while this program runs the card is in the reader, and when it exits the card is
 * pulled. (The test runs pcscd in a network namespace that has only loopback, since vpcd
 * listens on every address of its namespace.)
 *
 *   vcard-glue NSSDB-DIR PORT
 *
 * vpcd's framing: every message has a 2-byte big-endian length. A 1-byte message from
 * vpcd is a control code (0 power off, 1 power on, 2 reset, 4 get ATR); anything longer
 * is a command APDU, answered with the response APDU.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libcacard.h>

#define VPCD_POWER_OFF 0
#define VPCD_POWER_ON 1
#define VPCD_RESET 2
#define VPCD_GET_ATR 4
#define MAX_MSG 65538

static int read_full(int fd, unsigned char *buf, size_t len)
{
	int on = 1;

	while (len > 0) {
		ssize_t n = read(fd, buf, len);

		/* vpcd writes length and body apart: acknowledge at once, or Nagle on its
		 * side waits for our delayed ACK (40 ms per APDU). Linux resets this flag. */
		setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &on, sizeof(on));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* One write per message: with TCP_NODELAY each answer leaves at once. */
static int send_msg(int fd, const unsigned char *buf, size_t len)
{
	static unsigned char msg[MAX_MSG + 2];

	msg[0] = (unsigned char)(len >> 8);
	msg[1] = (unsigned char)len;
	memcpy(msg + 2, buf, len);
	return write(fd, msg, len + 2) == (ssize_t)(len + 2) ? 0 : -1;
}

/* vpcd may still be starting: try for a while. */
static int connect_loopback(int port)
{
	struct sockaddr_in sa;
	int fd, on = 1;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (int tries = 0; tries < 100; tries++) {
		if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
			return -1;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
			return fd;
		}
		close(fd);
		usleep(100 * 1000);
	}
	return -1;
}

static VReader *first_reader(void)
{
	VReaderList *list = vreader_get_reader_list();
	VReaderListEntry *e = list ? vreader_list_get_first(list) : NULL;
	VReader *r = e ? vreader_reference(vreader_list_get_reader(e)) : NULL;

	if (list != NULL)
		vreader_list_delete(list);
	return r;
}

/*
 * vpcd asks for the ATR each time pcscd polls for the card (every 400 ms), between any two
 * APDUs of the host. A real reader answers that from what it read at power-on; it must not
 * reset the card, or a reply waiting for GET RESPONSE, the selected applet and the verified
 * PIN are lost mid-operation. So only power on and reset touch the card.
 */
static unsigned char atr[64];
static int atr_len;

static int power_on(VReader *reader)
{
	atr_len = sizeof(atr);
	return vreader_power_on(reader, atr, &atr_len) == VREADER_OK ? 0 : -1;
}

/* Answers one message from vpcd. */
static int answer(int fd, VReader *reader)
{
	static unsigned char in[MAX_MSG], out[MAX_MSG];
	unsigned char hdr[2];
	int out_len = sizeof(out);
	size_t len;

	if (read_full(fd, hdr, 2) != 0)
		return -1;
	len = (size_t)hdr[0] << 8 | hdr[1];
	if (len == 0 || read_full(fd, in, len) != 0)
		return -1;
	if (len == 1) {
		switch (in[0]) {
		case VPCD_POWER_OFF:
			vreader_power_off(reader);
			return 0;
		case VPCD_RESET:
			vreader_power_off(reader);
			/* fall through */
		case VPCD_POWER_ON:
			return power_on(reader);
		case VPCD_GET_ATR:
			return send_msg(fd, atr, (size_t)atr_len);
		}
		return 0;
	}
	if (vreader_xfr_bytes(reader, in, (int)len, out, &out_len) != VREADER_OK) {
		out[0] = 0x6f;  /* "no precise diagnosis" */
		out[1] = 0x00;
		out_len = 2;
	}
	return send_msg(fd, out, (size_t)out_len);
}

int main(int argc, char **argv)
{
	char opts[4096];
	VCardEmulOptions *options;
	VReader *reader;
	int fd;

	if (argc != 3) {
		fprintf(stderr, "usage: vcard-glue NSSDB-DIR PORT\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	snprintf(opts, sizeof(opts),
	         "db=\"sql:%s\" use_hw=no soft=(,p11guard-vcard,CAC,,cert1,cert2,cert3)", argv[1]);
	if ((options = vcard_emul_options(opts)) == NULL ||
	    vcard_emul_init(options) != VCARD_EMUL_OK || (reader = first_reader()) == NULL ||
	    power_on(reader) != 0) {
		fprintf(stderr, "vcard-glue: libcacard could not start on %s\n", argv[1]);
		return 1;
	}
	if ((fd = connect_loopback(atoi(argv[2]))) < 0) {
		perror("vcard-glue: connect to vpcd");
		return 1;
	}
	printf("vcard-glue: card inserted (127.0.0.1:%s)\n", argv[2]);
	fflush(stdout);
	while (answer(fd, reader) == 0)
		;
	close(fd);
	return 0;
}
