/*! \file sip_vty.c
 *  VTY of the SIP channels: node `sip` (local address, port, transports, domain, outbound proxy, trusted peers),
 *  and `show sip`. Network-initiated dialogs start with the core's `trigger ... via ims-msg|ussi`. */

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/utils.h>
#include <osmocom/core/rate_ctr.h>
#include <osmocom/vty/vty.h>
#include <osmocom/vty/command.h>
#include <osmocom/vty/misc.h>
#include <osmocom/uigw/core/uigw.h>
#include <osmocom/uigw/core/chan.h>
#include <osmocom/uigw/common/vty_nodes.h>
#include <osmocom/uigw/common/number.h>

#include "sip_priv.h"

/* the adapter of the gateway the VTY acts on (channels ims-msg and ussi share it) */
static struct uigw_sip *root_sip(void)
{
	return uigw_vty_root ? uigw_chan_priv(uigw_vty_root, UIGW_CHAN_IMS_MSG) : NULL;
}

/* inside node sip: the adapter cfg_sip put there */
#define SIPV ((struct uigw_sip *)vty->index)

static struct cmd_node sip_node = {
	.node = SIP_NODE,
	.prompt = "%s(config-sip)# ",
	.vtysh = 1,
};

static void restart_note(struct vty *vty)
{
	if (vty->type != VTY_FILE && SIPV->started)
		vty_out(vty, "%% Takes effect at the next start of osmo-uigw%s", VTY_NEWLINE);
}

DEFUN(cfg_sip, cfg_sip_cmd, "sip", "Configure the SIP channels (ims-msg, ussi): osmo-uigw as an IMS AS\n")
{
	struct uigw_sip *s = root_sip();

	if (!s) {
		vty_out(vty, "%% No SIP channels in this gateway%s", VTY_NEWLINE);
		return CMD_WARNING;
	}
	s->cfg.configured = true;
	vty->index = s;
	vty->node = SIP_NODE;
	return CMD_SUCCESS;
}

DEFUN(cfg_sip_local_ip, cfg_sip_local_ip_cmd, "local-ip A.B.C.D",
      "Address to listen on for SIP (default 127.0.0.1)\n" "IPv4 address\n")
{
	osmo_talloc_replace_string(SIPV, &SIPV->cfg.local_ip, argv[0]);
	restart_note(vty);
	return CMD_SUCCESS;
}

DEFUN(cfg_sip_local_port, cfg_sip_local_port_cmd, "local-port <1-65535>",
      "Port to listen on for SIP over UDP and TCP (default 5060)\n" "Port\n")
{
	SIPV->cfg.local_port = atoi(argv[0]);
	restart_note(vty);
	return CMD_SUCCESS;
}

DEFUN(cfg_sip_transport, cfg_sip_transport_cmd, "transport (udp|tcp|udp-tcp)",
      "Transports to listen on (default udp-tcp)\n" "UDP only\n" "TCP only\n" "UDP and TCP\n")
{
	SIPV->cfg.udp = strcmp(argv[0], "tcp") != 0;
	SIPV->cfg.tcp = strcmp(argv[0], "udp") != 0;
	restart_note(vty);
	return CMD_SUCCESS;
}

DEFUN(cfg_sip_domain, cfg_sip_domain_cmd, "domain NAME",
      "SIP domain of the gateway, used in the From of requests it sends (default: local-ip)\n" "Domain\n")
{
	osmo_talloc_replace_string(SIPV, &SIPV->cfg.domain, argv[0]);
	return CMD_SUCCESS;
}

static bool host_ok(const char *h)
{
	size_t n = strlen(h);

	/* an IPv4 address or a DNS name (RFC 1123 letters, digits, hyphens, dots) */
	return n > 0 && n < 254 && strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.") == n &&
	       h[0] != '-' && h[0] != '.';
}

DEFUN(cfg_sip_proxy, cfg_sip_proxy_cmd, "outbound-proxy HOST [<1-65535>] [(udp|tcp)]",
      "Send requests to subscribers through this proxy (the S-CSCF), with a loose Route\n"
      "IPv4 address or DNS name (looked up now and at each start)\n" "Port (default 5060)\n"
      "Over UDP (default)\n" "Over TCP: one connection, opened when needed and reused\n")
{
	if (!host_ok(argv[0])) {
		vty_out(vty, "%% Not an IPv4 address or host name: %s%s", argv[0], VTY_NEWLINE);
		return CMD_WARNING;
	}
	osmo_talloc_replace_string(SIPV, &SIPV->cfg.proxy_host, argv[0]);
	SIPV->cfg.proxy_port = argc > 1 ? atoi(argv[1]) : 5060;
	SIPV->cfg.proxy_tcp = argc > 2 && !strcmp(argv[2], "tcp");
	if (uigw_sip_proxy_resolve(SIPV) < 0)
		vty_out(vty, "%% Cannot resolve %s now: requests to subscribers fail until it resolves (at the next "
			"start, or when set again)%s", argv[0], VTY_NEWLINE);
	return CMD_SUCCESS;
}

DEFUN(cfg_sip_no_proxy, cfg_sip_no_proxy_cmd, "no outbound-proxy",
      NO_STR "Send requests to the subscriber's asserted URI directly (default)\n")
{
	TALLOC_FREE(SIPV->cfg.proxy_host);
	SIPV->cfg.proxy_port = 5060;
	SIPV->cfg.proxy_tcp = false;
	SIPV->proxy_resolved = false;
	return CMD_SUCCESS;
}

static struct uigw_sip_peer *peer_find(struct uigw_sip *sip, const char *ip)
{
	struct uigw_sip_peer *p;

	llist_for_each_entry(p, &sip->cfg.peers, list)
		if (!strcmp(p->ip, ip))
			return p;
	return NULL;
}

DEFUN(cfg_sip_peer, cfg_sip_peer_cmd, "trusted-peer A.B.C.D [from-identity]",
      "Accept requests from this address (S-CSCF); requests from any other source get 403\n" "IPv4 address\n"
      "Without P-Asserted-Identity, take the subscriber from the From header\n")
{
	struct uigw_sip_peer *p = peer_find(SIPV, argv[0]);
	struct in_addr a;

	if (inet_pton(AF_INET, argv[0], &a) != 1) {
		vty_out(vty, "%% Not an IPv4 address: %s%s", argv[0], VTY_NEWLINE);
		return CMD_WARNING;
	}
	if (!p) {
		p = talloc_zero(SIPV, struct uigw_sip_peer);
		p->ip = talloc_strdup(p, argv[0]);
		llist_add_tail(&p->list, &SIPV->cfg.peers);
	}
	p->from_identity = argc > 1;
	return CMD_SUCCESS;
}

DEFUN(cfg_sip_no_peer, cfg_sip_no_peer_cmd, "no trusted-peer A.B.C.D",
      NO_STR "Refuse requests from this address\n" "IPv4 address\n")
{
	struct uigw_sip_peer *p = peer_find(SIPV, argv[0]);

	if (!p) {
		vty_out(vty, "%% No trusted peer %s%s", argv[0], VTY_NEWLINE);
		return CMD_WARNING;
	}
	llist_del(&p->list);
	talloc_free(p);
	return CMD_SUCCESS;
}

DEFUN(cfg_sip_enable, cfg_sip_enable_cmd, "enable", "Open the SIP listeners at start (default)\n")
{
	SIPV->cfg.enabled = true;
	restart_note(vty);
	return CMD_SUCCESS;
}

DEFUN(cfg_sip_disable, cfg_sip_disable_cmd, "disable", "Do not open the SIP listeners\n")
{
	SIPV->cfg.enabled = false;
	restart_note(vty);
	return CMD_SUCCESS;
}

#define TCP_STR "SIP over TCP: bounds against floods, idle peers and slow senders (take effect at once)\n"

DEFUN(cfg_sip_tcp_max, cfg_sip_tcp_max_cmd, "tcp max-connections <1-1000000>",
      TCP_STR "Connections open at most, accepted and our own; one past it is closed at once\n"
      "Connections (default 4096)\n")
{
	SIPV->cfg.tcp_max_conns = atoi(argv[0]);
	return CMD_SUCCESS;
}

DEFUN(cfg_sip_tcp_per_peer, cfg_sip_tcp_per_peer_cmd, "tcp max-connections-per-peer <1-1000000>",
      TCP_STR "Connections accepted from one IP address at most\n" "Connections (default 512)\n")
{
	SIPV->cfg.tcp_max_per_peer = atoi(argv[0]);
	return CMD_SUCCESS;
}

DEFUN(cfg_sip_tcp_idle, cfg_sip_tcp_idle_cmd, "tcp idle-timeout <0-86400>",
      TCP_STR "Close a connection on which nothing was received for this long\n"
      "Seconds (default 300; 0: never)\n")
{
	SIPV->cfg.tcp_idle_s = atoi(argv[0]);
	return CMD_SUCCESS;
}

DEFUN(cfg_sip_tcp_msg_timeout, cfg_sip_tcp_msg_timeout_cmd, "tcp message-timeout <1-3600>",
      TCP_STR "Close a connection whose message is not complete this long after its first bytes (slow senders)\n"
      "Seconds (default 10)\n")
{
	SIPV->cfg.tcp_msg_timeout_s = atoi(argv[0]);
	return CMD_SUCCESS;
}

DEFUN(cfg_sip_tcp_max_msg, cfg_sip_tcp_max_msg_cmd, "tcp max-message-size <1024-65535>",
      TCP_STR "Close a connection that sends a larger message (headers and body)\n" "Bytes (default 65535)\n")
{
	SIPV->cfg.tcp_max_msg = atoi(argv[0]);
	return CMD_SUCCESS;
}

DEFUN(cfg_sip_overload_resp, cfg_sip_overload_resp_cmd, "overload-response (503|busy-screen)",
      "How a MESSAGE that would begin a dialog is refused while the gateway takes no new ones (overload control, "
      "max-dialogs, a failing store)\n"
      "503 Service Unavailable with Retry-After (node uigw: overload retry-after): the sender tries again (default)\n"
      "202, then the busy text as a MESSAGE\n")
{
	SIPV->cfg.overload_screen = !strcmp(argv[0], "busy-screen");
	return CMD_SUCCESS;
}

DEFUN(cfg_sip_stale, cfg_sip_stale_cmd, "stale-request-ms <0-64000>",
      "Drop a request over UDP unread when it waited this long in the kernel: its client has retransmitted it "
      "meanwhile, and the newer copy gets the answer (takes effect at once)\n"
      "Milliseconds (default 2000; 0: never)\n")
{
	SIPV->cfg.stale_ms = atoi(argv[0]);
	return CMD_SUCCESS;
}

DEFUN(cfg_sip_udp_rcvbuf, cfg_sip_udp_rcvbuf_cmd, "udp-receive-buffer <64-1048576>",
      "The UDP socket's receive buffer: requests that come while the gateway is busy (a burst, a stall of the "
      "process) wait there, and past it the kernel drops them (counter rx:kernel-dropped, an overload control input). "
      "Without CAP_NET_ADMIN the kernel grants at most net.core.rmem_max (logged at the start; takes effect when the "
      "socket opens)\n"
      "KiB (default 16384)\n")
{
	SIPV->cfg.udp_rcvbuf_kib = atoi(argv[0]);
	return CMD_SUCCESS;
}

DEFUN(cfg_sip_kept_max, cfg_sip_kept_max_cmd, "kept-responses-max <1000-10000000>",
      "Final responses kept 64*T1 to answer retransmitted requests over UDP, at most (~330 bytes each); past it the "
      "oldest go first (takes effect at once)\n" "Responses (default 1000000)\n")
{
	SIPV->cfg.kept_max = atoi(argv[0]);
	return CMD_SUCCESS;
}

static int config_write_sip(struct vty *vty)
{
	struct uigw_sip *sip = root_sip();
	struct uigw_sip_cfg *cfg = &sip->cfg;
	struct uigw_sip_peer *p;

	if (!cfg->configured)
		return CMD_SUCCESS;
	vty_out(vty, "sip%s", VTY_NEWLINE);
	if (strcmp(cfg->local_ip, "127.0.0.1"))
		vty_out(vty, " local-ip %s%s", cfg->local_ip, VTY_NEWLINE);
	if (cfg->local_port != 5060)
		vty_out(vty, " local-port %u%s", cfg->local_port, VTY_NEWLINE);
	if (!(cfg->udp && cfg->tcp))
		vty_out(vty, " transport %s%s", cfg->udp ? "udp" : "tcp", VTY_NEWLINE);
	if (cfg->domain)
		vty_out(vty, " domain %s%s", cfg->domain, VTY_NEWLINE);
	if (cfg->proxy_host)
		vty_out(vty, " outbound-proxy %s %u%s%s", cfg->proxy_host, cfg->proxy_port, cfg->proxy_tcp ? " tcp" : "",
			VTY_NEWLINE);
	llist_for_each_entry(p, &cfg->peers, list)
		vty_out(vty, " trusted-peer %s%s%s", p->ip, p->from_identity ? " from-identity" : "", VTY_NEWLINE);
	if (cfg->tcp_max_conns != 4096)
		vty_out(vty, " tcp max-connections %u%s", cfg->tcp_max_conns, VTY_NEWLINE);
	if (cfg->tcp_max_per_peer != 512)
		vty_out(vty, " tcp max-connections-per-peer %u%s", cfg->tcp_max_per_peer, VTY_NEWLINE);
	if (cfg->tcp_idle_s != 300)
		vty_out(vty, " tcp idle-timeout %u%s", cfg->tcp_idle_s, VTY_NEWLINE);
	if (cfg->tcp_msg_timeout_s != 10)
		vty_out(vty, " tcp message-timeout %u%s", cfg->tcp_msg_timeout_s, VTY_NEWLINE);
	if (cfg->tcp_max_msg != 65535)
		vty_out(vty, " tcp max-message-size %u%s", cfg->tcp_max_msg, VTY_NEWLINE);
	if (cfg->overload_screen)
		vty_out(vty, " overload-response busy-screen%s", VTY_NEWLINE);
	if (cfg->udp_rcvbuf_kib != SIP_UDP_RCVBUF_KIB)
		vty_out(vty, " udp-receive-buffer %u%s", cfg->udp_rcvbuf_kib, VTY_NEWLINE);
	if (cfg->stale_ms != 2000)
		vty_out(vty, " stale-request-ms %u%s", cfg->stale_ms, VTY_NEWLINE);
	if (cfg->kept_max != SIP_DONE_MAX)
		vty_out(vty, " kept-responses-max %u%s", cfg->kept_max, VTY_NEWLINE);
	if (!cfg->enabled)
		vty_out(vty, " disable%s", VTY_NEWLINE);
	return CMD_SUCCESS;
}

void uigw_sip_vty_show(struct vty *vty, struct uigw_sip *s)
{
	struct uigw_sip_cfg *cfg = &s->cfg;
	struct uigw_sip_peer *p;
	unsigned int i;

	vty_out(vty, "SIP %s:%u %s%s%s: %s%s", cfg->local_ip, cfg->local_port, cfg->udp ? "UDP" : "",
		cfg->udp && cfg->tcp ? "+" : "", cfg->tcp ? "TCP" : "",
		!cfg->configured ? "not configured (no node sip)" : !cfg->enabled ? "disabled" :
		s->osip ? "listening" : "not started", VTY_NEWLINE);
	vty_out(vty, " Domain %s, outbound proxy ", cfg->domain ? cfg->domain : cfg->local_ip);
	if (cfg->proxy_host && s->proxy_resolved && strcmp(cfg->proxy_host, inet_ntoa(s->proxy_addr.sin_addr)))
		vty_out(vty, "%s (%s):%u%s%s", cfg->proxy_host, inet_ntoa(s->proxy_addr.sin_addr), cfg->proxy_port,
			cfg->proxy_tcp ? " over TCP" : "", VTY_NEWLINE);
	else if (cfg->proxy_host)
		vty_out(vty, "%s:%u%s%s%s", cfg->proxy_host, cfg->proxy_port, cfg->proxy_tcp ? " over TCP" : "",
			s->proxy_resolved ? "" : " (not resolved)", VTY_NEWLINE);
	else
		vty_out(vty, "none (requests go to the asserted URI)%s", VTY_NEWLINE);
	vty_out(vty, " Trusted peers:");
	llist_for_each_entry(p, &cfg->peers, list)
		vty_out(vty, " %s%s", p->ip, p->from_identity ? "(from-identity)" : "");
	if (llist_empty(&cfg->peers))
		vty_out(vty, " none (every request is refused)");
	vty_out(vty, "%s", VTY_NEWLINE);
	vty_out(vty, " MESSAGE dialogs: %u%s", s->n_msg, VTY_NEWLINE);
	if (cfg->tcp)
		vty_out(vty, " TCP connections: %u open (max %u, %u per peer), idle-timeout %u s, message-timeout %u s, "
			"max-message-size %u%s", s->n_conns, cfg->tcp_max_conns, cfg->tcp_max_per_peer, cfg->tcp_idle_s,
			cfg->tcp_msg_timeout_s, cfg->tcp_max_msg, VTY_NEWLINE);
	if (s->osip) {
		int n[4] = { 0 };

		for (i = 0; i < SIP_OSIP_POOL; i++) {
			if (!s->pool[i])
				continue;
			n[0] += osip_list_size(&s->pool[i]->osip_ict_transactions);
			n[1] += osip_list_size(&s->pool[i]->osip_ist_transactions);
			n[2] += osip_list_size(&s->pool[i]->osip_nict_transactions);
			n[3] += osip_list_size(&s->pool[i]->osip_nist_transactions);
		}
		vty_out(vty, " Transactions: ICT %d, IST %d, NICT %d, NIST %d; answered requests kept %u of at most %u "
			"(retransmissions answered from them: %lu; dropped early: %lu)%s", n[0], n[1],
			n[2] + (int)s->n_nict, n[3], s->n_done, cfg->kept_max, s->done_hits, s->done_dropped, VTY_NEWLINE);
		vty_out(vty, " Requests dropped unread after %u ms in the kernel (stale-request-ms): %lu%s", cfg->stale_ms,
			s->stale_dropped, VTY_NEWLINE);
		vty_out(vty, " Refusals sent in UDP GSO groups (one length, one address): %lu%s%s", s->gso_sent,
			s->udp_gso ? "" : " (GSO refused by the kernel: one datagram each)", VTY_NEWLINE);
		vty_out(vty, " Datagrams the kernel dropped at the UDP socket, its receive buffer full: %" PRIu64 "%s",
			rate_ctr_group_get_ctr(s->ctrs, SIP_CTR_RX_KERNEL_DROP)->current, VTY_NEWLINE);
	}
	{
		struct uigw_sip_alloc_stats as;

		uigw_sip_alloc_stats(&as);
		vty_out(vty, " SIP allocator: %" PRIu64 " blocks reused, %" PRIu64 " from malloc, %" PRIu64
			" bytes cached%s", as.hits, as.misses, as.cached_bytes, VTY_NEWLINE);
	}
	for (i = 0; i < s->ctrs->desc->num_ctr; i++)
		vty_out(vty, " %-24s %" PRIu64 "%s", s->ctrs->desc->ctr_desc[i].name,
			rate_ctr_group_get_ctr(s->ctrs, i)->current, VTY_NEWLINE);
	ussi_vty_show(vty, s);
}

DEFUN(show_sip, show_sip_cmd, "show sip", SHOW_STR "SIP channels: listeners, peers, counters, USSI sessions\n")
{
	uigw_sip_vty_show(vty, root_sip());
	return CMD_SUCCESS;
}

void uigw_sip_vty_init(void)
{
	static bool installed;

	/* the commands are process-wide; they act on uigw_vty_root's adapter */
	if (installed)
		return;
	installed = true;
	install_element(CONFIG_NODE, &cfg_sip_cmd);
	install_node(&sip_node, config_write_sip);
	install_element(SIP_NODE, &cfg_sip_local_ip_cmd);
	install_element(SIP_NODE, &cfg_sip_local_port_cmd);
	install_element(SIP_NODE, &cfg_sip_transport_cmd);
	install_element(SIP_NODE, &cfg_sip_domain_cmd);
	install_element(SIP_NODE, &cfg_sip_proxy_cmd);
	install_element(SIP_NODE, &cfg_sip_no_proxy_cmd);
	install_element(SIP_NODE, &cfg_sip_peer_cmd);
	install_element(SIP_NODE, &cfg_sip_no_peer_cmd);
	install_element(SIP_NODE, &cfg_sip_enable_cmd);
	install_element(SIP_NODE, &cfg_sip_disable_cmd);
	install_element(SIP_NODE, &cfg_sip_tcp_max_cmd);
	install_element(SIP_NODE, &cfg_sip_tcp_per_peer_cmd);
	install_element(SIP_NODE, &cfg_sip_tcp_idle_cmd);
	install_element(SIP_NODE, &cfg_sip_tcp_msg_timeout_cmd);
	install_element(SIP_NODE, &cfg_sip_tcp_max_msg_cmd);
	install_element(SIP_NODE, &cfg_sip_overload_resp_cmd);
	install_element(SIP_NODE, &cfg_sip_stale_cmd);
	install_element(SIP_NODE, &cfg_sip_udp_rcvbuf_cmd);
	install_element(SIP_NODE, &cfg_sip_kept_max_cmd);
	install_element_ve(&show_sip_cmd);
}
