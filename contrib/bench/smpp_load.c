/* smpp_load: a load SMSC for contrib/bench/smpp (test equipment, not part of the gateway).
 *
 * Listens on 127.0.0.1:PORT for one ESME (osmo-uigw, or Kannel's bearerbox), answers its bind_transceiver, then
 * offers dialog steps at a fixed rate for a fixed time: subscriber i sends KEYWORD to SHORTCODE (deliver_sm);
 * when the ESME's reply arrives (submit_sm, answered at once with submit_sm_resp OK), the subscriber sends ANSWER;
 * when the second reply arrives the subscriber is done. Each MO -> MT pair is one step; its latency is the time
 * from the deliver_sm written to the submit_sm read. A step counts as an error when its reply does not come
 * within the drain time, when the ESME refuses the deliver_sm, or when a reply comes that nobody waits for.
 * Prints one line: offered=N completed=N errors=N err_pct=F rate=F p50_ms=F p99_ms=F max_ms=F
 *
 * With SMPP_LOAD_EXPECT=TEXT a subscriber counts as served only when its second reply contains TEXT; with
 * SMPP_LOAD_BUSY=TEXT a reply containing TEXT is an explicit refusal (the subscriber stops there), as is a
 * deliver_sm_resp ESME_RTHROTTLED (always). The summary line adds served=N busy=N (throttled=N of them),
 * other=N (a second reply of neither text) and waiting=N (no reply by the end of the drain), and
 * SMPP_LOAD_TIMELINE=FILE writes one line per second of the run:
 *   SECOND STARTED SERVED BUSY OTHER OVER_1S MAX_MS  (the subscribers whose first MO went out in that second;
 *   their steps slower than 1 s, and the slowest, in ms)
 * SMPP_LOAD_T0=FILE is created when the offered load starts (second 0). SMPP_LOAD_RECONNECT=1: an ESME that goes
 * away during the load may connect and bind again; the load goes on (reconnects=N in the summary).
 *
 * usage: smpp_load PORT RATE SECONDS FIRST_SUBSCRIBER SHORTCODE KEYWORD ANSWER [DRAIN_SECONDS]
 * Bounded: at most RATE * SECONDS / 2 subscribers, at most SECONDS + DRAIN + 30 s in all. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HDR 16
#define MAX_PDU 4096

enum { ST_IDLE, ST_WAIT1, ST_WAIT2, ST_DONE };

enum { OUT_NONE, OUT_SERVED, OUT_BUSY, OUT_OTHER };

struct sub {
	uint8_t state;
	uint8_t outcome;	/* OUT_*, with SMPP_LOAD_EXPECT */
	double sent;		/* time the current MO was written */
	double first;		/* time the first MO was written */
};

static struct sub *subs;
static unsigned long n_subs, first_sub;
static double *lat;
static float *lat_first;	/* the second of the run its subscriber's first MO went out (timeline) */
static unsigned long n_lat, errors, unexpected, refused;
static const char *shortcode, *keyword, *answer;
static const char *expect, *busy_text;
static unsigned long n_served, n_busy, n_throttled, n_foreign, n_dup, n_other, n_waiting;
static unsigned long *seq_sub;	/* our deliver_sm sequence number -> subscriber + 1 (0: none) */
static size_t n_seq;

static uint8_t *wbuf;
static size_t wlen, wcap;
static uint8_t rbuf[1 << 20];
static size_t rlen;
static uint32_t seq = 1;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

static uint8_t *wreserve(size_t n)
{
	if (wlen + n > wcap) {
		wcap = (wlen + n) * 2;
		wbuf = realloc(wbuf, wcap);
		if (!wbuf)
			abort();
	}
	return wbuf + wlen;
}

static void pdu_simple(uint32_t cmd, uint32_t status, uint32_t sq, const char *body, size_t blen)
{
	uint8_t *p = wreserve(HDR + blen);

	put32(p, HDR + blen);
	put32(p + 4, cmd);
	put32(p + 8, status);
	put32(p + 12, sq);
	if (blen)
		memcpy(p + HDR, body, blen);
	wlen += HDR + blen;
}

static size_t cstr(uint8_t *p, const char *s)
{
	size_t n = strlen(s) + 1;

	memcpy(p, s, n);
	return n;
}

static void deliver(unsigned long i, const char *text)
{
	char src[24];
	uint8_t *p = wreserve(HDR + 128 + strlen(text)), *b = p + HDR;
	size_t n = 0, tl = strlen(text);

	snprintf(src, sizeof(src), "49%011lu", first_sub + i);
	b[n++] = 0;			/* service_type "" */
	b[n++] = 1;			/* source ton international */
	b[n++] = 1;			/* npi E.164 */
	n += cstr(b + n, src);
	b[n++] = 0;			/* dest ton unknown: a short code */
	b[n++] = 1;
	n += cstr(b + n, shortcode);
	b[n++] = 0;			/* esm_class */
	b[n++] = 0;			/* protocol_id */
	b[n++] = 0;			/* priority */
	b[n++] = 0;			/* schedule_delivery_time "" */
	b[n++] = 0;			/* validity_period "" */
	b[n++] = 0;			/* registered_delivery */
	b[n++] = 0;			/* replace_if_present */
	b[n++] = 0;			/* data_coding: SMSC default */
	b[n++] = 0;			/* sm_default_msg_id */
	b[n++] = tl;
	memcpy(b + n, text, tl);
	n += tl;
	put32(p, HDR + n);
	put32(p + 4, 0x00000005);
	put32(p + 8, 0);
	if (seq < n_seq)
		seq_sub[seq] = i + 1;
	put32(p + 12, seq++);
	wlen += HDR + n;
	subs[i].sent = now_s();
}

/* the destination address of a submit_sm body, or NULL */
static const char *submit_dst(const uint8_t *b, size_t len, char *out, size_t out_len)
{
	size_t p = 0, l;

	l = strnlen((const char *)b, len);		/* service_type */
	p += l + 1 + 2;
	if (p >= len)
		return NULL;
	l = strnlen((const char *)b + p, len - p);	/* source_addr */
	p += l + 1 + 2;
	if (p >= len)
		return NULL;
	l = strnlen((const char *)b + p, len - p);	/* destination_addr */
	if (p + l >= len || l + 1 > out_len)
		return NULL;
	memcpy(out, b + p, l + 1);
	return out;
}

/* the short_message of a submit_sm body (NUL-terminated copy, truncated), or "" */
static const char *submit_text(const uint8_t *b, size_t len, char *out, size_t out_len)
{
	size_t p = 0, l;
	int i;

	out[0] = 0;
	for (i = 0; i < 3; i++) {	/* service_type; source and destination (ton, npi, addr) */
		if (i)
			p += 2;
		if (p >= len)
			return out;
		p += strnlen((const char *)b + p, len - p) + 1;
	}
	p += 3;				/* esm_class, protocol_id, priority_flag */
	for (i = 0; i < 2; i++) {	/* schedule_delivery_time, validity_period */
		if (p >= len)
			return out;
		p += strnlen((const char *)b + p, len - p) + 1;
	}
	p += 4;				/* registered_delivery, replace_if_present, data_coding, sm_default_msg_id */
	if (p >= len)
		return out;
	l = b[p++];
	if (p + l > len)
		l = len - p;
	if (l >= out_len)
		l = out_len - 1;
	memcpy(out, b + p, l);
	out[l] = 0;
	return out;
}

static void on_submit(const uint8_t *body, size_t blen, uint32_t sq)
{
	char text[256];
	char dst[32], id[24];
	const char *d = submit_dst(body, blen, dst, sizeof(dst));
	unsigned long long num;
	unsigned long i;
	double t = now_s();

	snprintf(id, sizeof(id), "%u", sq);
	pdu_simple(0x80000004, 0, sq, id, strlen(id) + 1);
	if (!d) {
		unexpected++;
		return;
	}
	if (d[0] == '+')
		d++;
	num = strtoull(d, NULL, 10);
	if (num < 4900000000000ULL + first_sub || num >= 4900000000000ULL + first_sub + n_subs) {
		unexpected++;
		n_foreign++;	/* another run's subscriber: queued while its SMSC was gone */
		return;
	}
	i = num - 4900000000000ULL - first_sub;
	if (expect || busy_text)
		submit_text(body, blen, text, sizeof(text));
	switch (subs[i].state) {
	case ST_WAIT1:
		lat_first[n_lat] = subs[i].first;
		lat[n_lat++] = t - subs[i].sent;
		if (busy_text && strstr(text, busy_text)) {
			subs[i].state = ST_DONE;
			subs[i].outcome = OUT_BUSY;
			n_busy++;
			break;
		}
		subs[i].state = ST_WAIT2;
		deliver(i, answer);
		break;
	case ST_WAIT2:
		lat_first[n_lat] = subs[i].first;
		lat[n_lat++] = t - subs[i].sent;
		subs[i].state = ST_DONE;
		if (busy_text && strstr(text, busy_text)) {
			subs[i].outcome = OUT_BUSY;
			n_busy++;
		} else if (expect && strstr(text, expect)) {
			subs[i].outcome = OUT_SERVED;
			n_served++;
		} else {
			subs[i].outcome = OUT_OTHER;
		}
		break;
	default:
		unexpected++;
		n_dup++;	/* a reply to a subscriber done (or never started): sent twice */
	}
}

static int bound;

static void on_pdu(const uint8_t *p, size_t len)
{
	uint32_t cmd = get32(p + 4), status = get32(p + 8), sq = get32(p + 12);

	switch (cmd) {
	case 0x00000009:	/* bind_transceiver */
	case 0x00000001:	/* bind_receiver */
	case 0x00000002:	/* bind_transmitter */
		pdu_simple(0x80000000 | cmd, 0, sq, "smpp_load", 10);
		bound = 1;
		break;
	case 0x00000015:	/* enquire_link */
		pdu_simple(0x80000015, 0, sq, NULL, 0);
		break;
	case 0x00000006:	/* unbind */
		pdu_simple(0x80000006, 0, sq, NULL, 0);
		break;
	case 0x00000004:	/* submit_sm */
		on_submit(p + HDR, len - HDR, sq);
		break;
	case 0x80000005:	/* deliver_sm_resp */
		/* ESME_RTHROTTLED: the ESME takes nothing new now (an explicit refusal; an SMSC would deliver it
		 * again later): that subscriber stops here */
		if (status == 0x58 && sq < n_seq && seq_sub[sq] && subs[seq_sub[sq] - 1].state != ST_DONE) {
			struct sub *s = &subs[seq_sub[sq] - 1];

			s->state = ST_DONE;
			s->outcome = OUT_BUSY;
			n_busy++;
			n_throttled++;
		} else if (status) {
			refused++;
		}
		break;
	case 0x80000015:
		break;
	default:
		if (!(cmd & 0x80000000))
			pdu_simple(0x80000000, 0x00000003, sq, NULL, 0);	/* generic_nack */
	}
}

static int io(int fd, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN | (wlen ? POLLOUT : 0) };
	ssize_t n;

	if (poll(&pfd, 1, timeout_ms) < 0)
		return errno == EINTR ? 0 : -1;
	if (pfd.revents & (POLLERR | POLLHUP))
		return -1;
	if (pfd.revents & POLLOUT && wlen) {
		n = write(fd, wbuf, wlen);
		if (n < 0 && errno != EAGAIN)
			return -1;
		if (n > 0) {
			memmove(wbuf, wbuf + n, wlen - n);
			wlen -= n;
		}
	}
	if (pfd.revents & POLLIN) {
		size_t off = 0;

		n = read(fd, rbuf + rlen, sizeof(rbuf) - rlen);
		if (n == 0)
			return -1;
		if (n < 0)
			return errno == EAGAIN ? 0 : -1;
		rlen += n;
		while (rlen - off >= HDR) {
			uint32_t l = get32(rbuf + off);

			if (l < HDR || l > MAX_PDU)
				return -1;
			if (rlen - off < l)
				break;
			on_pdu(rbuf + off, l);
			off += l;
		}
		memmove(rbuf, rbuf + off, rlen - off);
		rlen -= off;
	}
	return 0;
}

/* With SMPP_LOAD_RECONNECT set, an ESME that goes away during the load (killed, restarted) may come back: wait
 * (at most SECONDS) for its new connection and bind, and go on; what was in flight is lost to the old one. */
static unsigned long reconnects;

static int reaccept(int ls, int old, double secs)
{
	struct pollfd pfd = { .fd = ls, .events = POLLIN };
	double deadline = now_s() + secs;
	int one = 1, fd;

	close(old);
	wlen = 0;
	rlen = 0;
	bound = 0;
	if (poll(&pfd, 1, (int)(secs * 1000)) <= 0)
		return -1;
	fd = accept(ls, NULL, NULL);
	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	fcntl(fd, F_SETFL, O_NONBLOCK);
	while (!bound && now_s() < deadline)
		if (io(fd, 100) < 0)
			return -1;
	if (!bound)
		return -1;
	reconnects++;
	return fd;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	double rate, secs, drain = 5, t0, deadline, end;
	unsigned long offered_subs, started = 0, i, done_steps;
	int ls, fd, one = 1;

	signal(SIGPIPE, SIG_IGN);	/* an ESME that goes away is a read of 0 or a write error, not our end */
	if (argc < 8) {
		fprintf(stderr, "usage: %s PORT RATE SECONDS FIRST_SUBSCRIBER SHORTCODE KEYWORD ANSWER [DRAIN]\n",
			argv[0]);
		return 2;
	}
	sa.sin_port = htons(atoi(argv[1]));
	rate = atof(argv[2]);
	secs = atof(argv[3]);
	first_sub = strtoul(argv[4], NULL, 10);
	shortcode = argv[5];
	keyword = argv[6];
	answer = argv[7];
	if (argc > 8)
		drain = atof(argv[8]);
	expect = getenv("SMPP_LOAD_EXPECT");
	busy_text = getenv("SMPP_LOAD_BUSY");
	if (rate <= 0 || rate > 1e6 || secs <= 0 || secs > 120 || drain < 0 || drain > 60)
		return 2;
	/* two steps per subscriber */
	offered_subs = (unsigned long)(rate * secs / 2);
	n_subs = offered_subs ? offered_subs : 1;
	subs = calloc(n_subs, sizeof(*subs));
	n_seq = 2 * n_subs + 2;
	seq_sub = calloc(n_seq, sizeof(*seq_sub));
	lat = calloc(2 * n_subs, sizeof(*lat));
	lat_first = calloc(2 * n_subs, sizeof(*lat_first));
	if (!subs || !lat || !seq_sub)
		return 1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ls = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(ls, 4) < 0) {
		perror("bind");
		return 1;
	}
	/* wait for the ESME (30 s at most) */
	{
		struct pollfd pfd = { .fd = ls, .events = POLLIN };

		if (poll(&pfd, 1, 30000) <= 0) {
			fprintf(stderr, "no ESME connected\n");
			return 1;
		}
	}
	fd = accept(ls, NULL, NULL);
	if (fd < 0)
		return 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	fcntl(fd, F_SETFL, O_NONBLOCK);
	deadline = now_s() + 30;
	while (!bound && now_s() < deadline)
		if (io(fd, 100) < 0)
			return 1;
	if (!bound) {
		fprintf(stderr, "no bind\n");
		return 1;
	}
	/* let the ESME settle (Kannel binds, then starts its queues) */
	end = now_s() + 1;
	while (now_s() < end) {
		if (io(fd, 10) < 0) {
			if (!getenv("SMPP_LOAD_RECONNECT") || (fd = reaccept(ls, fd, 30)) < 0)
				return 1;
		}
	}

	t0 = now_s();
	end = t0 + secs;
	if (getenv("SMPP_LOAD_T0")) {	/* the offered load starts now: for scripts that act at given seconds */
		FILE *f = fopen(getenv("SMPP_LOAD_T0"), "w");

		if (f)
			fclose(f);
	}
	while (now_s() < end) {
		unsigned long due = (unsigned long)((now_s() - t0) * rate / 2);

		if (due > offered_subs)
			due = offered_subs;
		for (; started < due && wlen < (8 << 20); started++) {
			subs[started].state = ST_WAIT1;
			deliver(started, keyword);
			subs[started].first = subs[started].sent - t0;
		}
		if (io(fd, 1) < 0) {
			if (!getenv("SMPP_LOAD_RECONNECT"))
				break;
			fd = reaccept(ls, fd, end - now_s() > 1 ? end - now_s() : 1);
			if (fd < 0)
				break;
		}
	}
	/* drain: the steps under way may complete; no new subscriber starts */
	deadline = now_s() + drain;
	while (now_s() < deadline) {
		unsigned long waiting = 0;

		for (i = 0; i < started; i++)
			waiting += subs[i].state == ST_WAIT1 || subs[i].state == ST_WAIT2;
		if (!waiting)
			break;
		if (io(fd, 5) < 0)
			break;
	}
	done_steps = n_lat;
	/* of the subscribers neither served nor refused: a second reply of another text, or still waiting */
	for (i = 0; i < started; i++) {
		n_other += subs[i].outcome == OUT_OTHER;
		n_waiting += subs[i].state == ST_WAIT1 || subs[i].state == ST_WAIT2;
	}
	/* every subscriber started offered two steps: the ones without their replies are errors (a rate the sender
	 * itself cannot keep up is visible as achieved < offered); a refused one offered one */
	offered_subs = started;
	errors = 2 * offered_subs - (n_busy - n_throttled) - 2 * n_throttled - done_steps + unexpected + refused;
	if (getenv("SMPP_LOAD_TIMELINE")) {
		FILE *tl = fopen(getenv("SMPP_LOAD_TIMELINE"), "w");
		unsigned long sec, n_sec = (unsigned long)secs + 1;
		unsigned long (*b)[5] = calloc(n_sec, sizeof(*b));
		double *mx = calloc(n_sec, sizeof(*mx));

		if (!tl || !b || !mx)
			return 1;
		for (i = 0; i < n_lat; i++) {
			sec = (unsigned long)lat_first[i];
			if (sec >= n_sec)
				sec = n_sec - 1;
			b[sec][4] += lat[i] > 1.0;
			if (lat[i] > mx[sec])
				mx[sec] = lat[i];
		}
		for (i = 0; i < started; i++) {
			sec = (unsigned long)subs[i].first;
			if (sec >= n_sec)
				sec = n_sec - 1;
			b[sec][0]++;
			b[sec][subs[i].outcome == OUT_SERVED ? 1 : subs[i].outcome == OUT_BUSY ? 2 : 3]++;
		}
		for (sec = 0; sec < n_sec; sec++)
			fprintf(tl, "%lu %lu %lu %lu %lu %lu %.0f\n", sec, b[sec][0], b[sec][1], b[sec][2], b[sec][3],
				b[sec][4], mx[sec] * 1e3);
		fclose(tl);
		free(b);
		free(mx);
	}
	/* the last submit_sm_resp must reach the ESME, or it would send those replies again */
	deadline = now_s() + 1;
	while (wlen && now_s() < deadline)
		if (io(fd, 5) < 0)
			break;
	qsort(lat, n_lat, sizeof(*lat), cmp_d);
	printf("offered=%lu completed=%lu errors=%lu err_pct=%.3f rate=%.0f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f "
	       "unexpected=%lu refused=%lu served=%lu busy=%lu throttled=%lu reconnects=%lu foreign=%lu dup=%lu other=%lu "
	       "waiting=%lu\n",
	       2 * offered_subs, done_steps, errors,
	       offered_subs ? 100.0 * errors / (2.0 * offered_subs) : 0, done_steps / secs,
	       n_lat ? lat[n_lat / 2] * 1e3 : 0, n_lat ? lat[(size_t)(n_lat * 0.99)] * 1e3 : 0,
	       n_lat ? lat[n_lat - 1] * 1e3 : 0, unexpected, refused, n_served, n_busy, n_throttled, reconnects,
	       n_foreign, n_dup, n_other, n_waiting);
	close(fd);
	close(ls);
	free(subs);
	free(seq_sub);
	free(lat);
	free(wbuf);
	return 0;
}
