/*! \file ctrl_guard.c
 *  Bounds on the CTRL interface's connections, which libosmocore's control_if keeps open whatever they send: a
 *  stream that is no IPA CTRL framing at a message boundary (a 2 MB line of text was read a few octets at a time,
 *  one error line each, and the connection kept, neither answered nor closed) is closed at its first header; a
 *  message that stays incomplete for `ctrl-message-timeout` seconds (node uigw, 10) closes its connection.
 *  libosmocore's accept and read callbacks are wrapped, not replaced: a connection is still read, answered and
 *  closed by libosmocore (a shutdown makes its next read see the end). Counter ctrl:dropped. */

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <osmocom/core/linuxlist.h>
#include <osmocom/core/logging.h>
#include <osmocom/core/rate_ctr.h>
#include <osmocom/core/socket.h>
#include <osmocom/core/timer.h>
#include <osmocom/core/utils.h>
#include <osmocom/core/write_queue.h>
#include <osmocom/ctrl/control_if.h>
#include <osmocom/gsm/protocol/ipaccess.h>
#include <osmocom/uigw/common/clock.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/core/uigw.h>
#include <osmocom/uigw/ctrl/ctrl.h>

#define GUARD_MAX_FD	4096	/* connections on higher descriptors get the framing check, not the time bound */

static struct uigw *g_gw;
static struct ctrl_handle *g_ctrl;
static int (*lib_accept_cb)(struct osmo_fd *fd, unsigned int what);
static int (*lib_read_cb)(struct osmo_fd *fd);
static struct osmo_timer_list stall_timer;
static int64_t partial_since_ms[GUARD_MAX_FD];	/* a message began arriving then (monotonic), 0: none */

static struct ctrl_connection *ccon_of(struct osmo_fd *bfd)
{
	struct osmo_wqueue *q = container_of(bfd, struct osmo_wqueue, bfd);

	return container_of(q, struct ctrl_connection, write_queue);
}

/* Close it through libosmocore: both directions shut, what waits unread dropped, and its read handler, seeing the
 * end, closes and frees the connection. \returns what that handler returns (-EBADF once closed) */
static int drop(struct osmo_fd *bfd, const char *why)
{
	char buf[4096], name[OSMO_SOCK_NAME_MAXLEN];
	int i;

	osmo_sock_get_name_buf(name, sizeof(name), bfd->fd);
	LOGP(DMAIN, LOGL_NOTICE, "CTRL connection %s: %s: closing\n", name, why);
	rate_ctr_inc2(g_gw->ctrs, UIGW_CTR_CTRL_DROPPED);
	if (bfd->fd >= 0 && bfd->fd < GUARD_MAX_FD)
		partial_since_ms[bfd->fd] = 0;
	shutdown(bfd->fd, SHUT_RDWR);
	for (i = 0; i < 1024 && recv(bfd->fd, buf, sizeof(buf), MSG_DONTWAIT) > 0; i++)
		;
	return lib_read_cb(bfd);
}

static int guard_read(struct osmo_fd *bfd)
{
	struct ctrl_connection *ccon = ccon_of(bfd);
	uint8_t h[4];
	ssize_t n;

	/* at a message boundary the next octets are an IPA header: length (2), protocol, CTRL's extension */
	if (!ccon->pending_msg) {
		n = recv(bfd->fd, h, sizeof(h), MSG_PEEK | MSG_DONTWAIT);
		if (n >= 3 && h[2] != IPAC_PROTO_OSMO && h[2] != IPAC_PROTO_IPACCESS)
			return drop(bfd, "not IPA framing");
		if (n >= 4 && h[2] == IPAC_PROTO_OSMO && h[3] != IPAC_PROTO_EXT_CTRL)
			return drop(bfd, "not the CTRL protocol");
	}
	return lib_read_cb(bfd);
}

/* a new connection is at the head of the list (libosmocore adds it there): its reads go through the guard */
static int guard_accept(struct osmo_fd *listen, unsigned int what)
{
	struct ctrl_connection *ccon;
	int rc = lib_accept_cb(listen, what);

	llist_for_each_entry(ccon, &g_ctrl->ccon_list, list_entry) {
		if (ccon->write_queue.read_cb == guard_read)
			continue;
		lib_read_cb = ccon->write_queue.read_cb;
		ccon->write_queue.read_cb = guard_read;
		if (ccon->write_queue.bfd.fd >= 0 && ccon->write_queue.bfd.fd < GUARD_MAX_FD)
			partial_since_ms[ccon->write_queue.bfd.fd] = 0;
	}
	return rc;
}

/* once a second: a message incomplete for longer than ctrl-message-timeout closes its connection */
static void stall_cb(void *data)
{
	struct ctrl_connection *ccon, *tmp;
	int64_t now = uigw_mono_ms();

	llist_for_each_entry_safe(ccon, tmp, &g_ctrl->ccon_list, list_entry) {
		int fd = ccon->write_queue.bfd.fd;

		if (fd < 0 || fd >= GUARD_MAX_FD || ccon->write_queue.read_cb != guard_read)
			continue;
		if (!ccon->pending_msg) {
			partial_since_ms[fd] = 0;
			continue;
		}
		if (!partial_since_ms[fd]) {
			partial_since_ms[fd] = now;
			continue;
		}
		if (now - partial_since_ms[fd] >= (int64_t)g_gw->cfg.ctrl_msg_timeout_s * 1000) {
			drop(&ccon->write_queue.bfd, "a message incomplete past ctrl-message-timeout");
			break;	/* the list changed: the others next time */
		}
	}
	osmo_timer_schedule(&stall_timer, 1, 0);
}

void uigw_ctrl_guard(struct uigw *gw, struct ctrl_handle *ctrl)
{
	g_gw = gw;
	g_ctrl = ctrl;
	lib_accept_cb = ctrl->listen_fd.cb;
	ctrl->listen_fd.cb = guard_accept;
	osmo_timer_setup(&stall_timer, stall_cb, NULL);
	osmo_timer_schedule(&stall_timer, 1, 0);
}

void uigw_ctrl_guard_stop(void)
{
	osmo_timer_del(&stall_timer);
}
