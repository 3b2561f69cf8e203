/*! \file logging.c
 *  Log categories of osmo-uigw: one per subsystem; the lines of other threads handed to the main loop
 *  (see logging.h). */

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <osmocom/core/logging.h>
#include <osmocom/core/select.h>
#include <osmocom/core/utils.h>
#include <osmocom/uigw/common/logging.h>

static const struct log_info_cat uigw_log_cats[] = {
	[DMAIN] = { .name = "DMAIN", .description = "Start-up, shutdown and configuration",
		    .color = "\033[1;35m", .enabled = 1, .loglevel = LOGL_NOTICE },
	[DCAMP] = { .name = "DCAMP", .description = "Campaign loading and routing",
		    .color = "\033[1;36m", .enabled = 1, .loglevel = LOGL_NOTICE },
	[DDLG] = { .name = "DDLG", .description = "Dialog engine",
		   .color = "\033[1;32m", .enabled = 1, .loglevel = LOGL_NOTICE },
	[DREND] = { .name = "DREND", .description = "Renderer (charsets, pagination)",
		    .color = "\033[1;33m", .enabled = 1, .loglevel = LOGL_NOTICE },
	[DSTORE] = { .name = "DSTORE", .description = "Feedback store",
		     .color = "\033[1;34m", .enabled = 1, .loglevel = LOGL_NOTICE },
	[DVTYCH] = { .name = "DVTYCH", .description = "Operator test-drive channel",
		     .color = "\033[0;36m", .enabled = 1, .loglevel = LOGL_NOTICE },
	[DSMPP] = { .name = "DSMPP", .description = "SMPP adapter",
		    .color = "\033[0;33m", .enabled = 1, .loglevel = LOGL_NOTICE },
	[DGSUP] = { .name = "DGSUP", .description = "GSUP adapter (OsmoHLR EUSE)",
		    .color = "\033[0;32m", .enabled = 1, .loglevel = LOGL_NOTICE },
	[DSIP] = { .name = "DSIP", .description = "SIP MESSAGE and USSI adapter",
		   .color = "\033[0;34m", .enabled = 1, .loglevel = LOGL_NOTICE },
	[DMAP] = { .name = "DMAP", .description = "SS7 MAP adapter",
		   .color = "\033[0;35m", .enabled = 1, .loglevel = LOGL_NOTICE },
	[DAPI] = { .name = "DAPI", .description = "HTTP API",
		   .color = "\033[1;34m", .enabled = 1, .loglevel = LOGL_NOTICE },
};

const struct log_info uigw_log_info = {
	.cat = uigw_log_cats,
	.num_cat = ARRAY_SIZE(uigw_log_cats),
};

/* ---- log lines of other threads, handed to the main loop ---- */

struct thread_line {
	struct thread_line *next;
	const char *file;	/* __FILE__: static */
	int ss, level, line, cont;
	size_t len;
	char text[];
};

static struct {
	bool on;
	pthread_t main;
	pthread_mutex_t lock;
	struct osmo_fd ofd;
	struct thread_line *head, **tail;
	size_t bytes, lines;
	unsigned long dropped, dropped_told;
} tl = { .lock = PTHREAD_MUTEX_INITIALIZER };

bool uigw_log_off_main(void)
{
	return __atomic_load_n(&tl.on, __ATOMIC_ACQUIRE) && !pthread_equal(pthread_self(), tl.main);
}

void uigw_log_thread_line(int ss, int level, const char *file, int line, int cont, const char *fmt, ...)
{
	char buf[4096];
	struct thread_line *l;
	va_list ap;
	bool wake;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	pthread_mutex_lock(&tl.lock);
	if (tl.bytes + n > UIGW_LOG_THREAD_MAX_BYTES || !(l = malloc(sizeof(*l) + n + 1))) {
		tl.dropped++;
		pthread_mutex_unlock(&tl.lock);
		return;
	}
	l->next = NULL;
	l->file = file;
	l->ss = ss;
	l->level = level;
	l->line = line;
	l->cont = cont;
	l->len = n;
	memcpy(l->text, buf, n + 1);
	wake = !tl.head;
	*tl.tail = l;
	tl.tail = &l->next;
	tl.bytes += n;
	tl.lines++;
	pthread_mutex_unlock(&tl.lock);
	if (wake) {
		uint64_t one = 1;

		/* a full counter (never, in practice) still leaves the descriptor readable */
		if (write(tl.ofd.fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
			return;
	}
}

void uigw_log_threads_drain(void)
{
	struct thread_line *l, *next;
	unsigned long dropped;

	pthread_mutex_lock(&tl.lock);
	l = tl.head;
	tl.head = NULL;
	tl.tail = &tl.head;
	tl.bytes = 0;
	tl.lines = 0;
	dropped = tl.dropped - tl.dropped_told;
	tl.dropped_told = tl.dropped;
	pthread_mutex_unlock(&tl.lock);
	for (; l; l = next) {
		next = l->next;
		LOGPSRCC(l->ss, l->level, l->file, l->line, l->cont, "%s", l->text);
		free(l);
	}
	if (dropped)
		LOGP(DMAIN, LOGL_ERROR, "%lu log lines of the store's threads dropped: more than %u bytes waited\n",
		     dropped, UIGW_LOG_THREAD_MAX_BYTES);
}

static int thread_lines_cb(struct osmo_fd *ofd, unsigned int what)
{
	uint64_t n;

	if (read(ofd->fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return 0;
	uigw_log_threads_drain();
	return 0;
}

int uigw_log_threads_init(void)
{
	int fd;

	if (tl.on)
		return 0;
	/* log_check_level() and the targets' output under libosmocore's mutex: the VTY may change targets while a
	 * thread asks whether a line is wanted */
	log_enable_multithread();
	fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	tl.head = NULL;
	tl.tail = &tl.head;
	osmo_fd_setup(&tl.ofd, fd, OSMO_FD_READ, thread_lines_cb, NULL, 0);
	if (osmo_fd_register(&tl.ofd) < 0) {
		close(fd);
		return -EIO;
	}
	tl.main = pthread_self();
	__atomic_store_n(&tl.on, true, __ATOMIC_RELEASE);
	return 0;
}

void uigw_log_threads_exit(void)
{
	if (!tl.on)
		return;
	/* the threads have ended: what they said last, then they would log directly (there are none) */
	__atomic_store_n(&tl.on, false, __ATOMIC_RELEASE);
	uigw_log_threads_drain();
	osmo_fd_unregister(&tl.ofd);
	close(tl.ofd.fd);
	tl.ofd.fd = -1;
}

void uigw_log_threads_counts(size_t *queued, unsigned long *dropped)
{
	pthread_mutex_lock(&tl.lock);
	*queued = tl.lines;
	*dropped = tl.dropped;
	pthread_mutex_unlock(&tl.lock);
}
