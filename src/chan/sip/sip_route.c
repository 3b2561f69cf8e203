/*! \file sip_route.c
 *  Where SIP requests and responses go: our own addresses (Contact, Via), the outbound proxy (its Route, its name
 *  looked up, its TCP connection), a subscriber's target over UDP or TCP, and host names to socket addresses
 *  (numeric IPv4, or the proxy's name). */

#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <stdlib.h>
#include <stdio.h>
#include <sys/socket.h>
#include <netdb.h>
#include <arpa/inet.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/logging.h>
#include <osmocom/uigw/core/uigw.h>
#include <osmocom/uigw/common/logging.h>
#include "sip_priv.h"

const char *sip_local_uri(struct uigw_sip *sip, bool tcp)
{
	static char buf[128];

	snprintf(buf, sizeof(buf), "sip:%s:%u%s", sip->cfg.local_ip, sip->cfg.local_port, tcp ? ";transport=tcp" : "");
	return buf;
}

char *sip_via(void *ctx, struct uigw_sip *sip, bool tcp)
{
	char *branch = sip_token(ctx, sip);
	char *via = talloc_asprintf(ctx, "SIP/2.0/%s %s:%u;rport;branch=z9hG4bK%s", tcp ? "TCP" : "UDP",
				    sip->cfg.local_ip, sip->cfg.local_port, branch);

	talloc_free(branch);
	return via;
}

char *sip_proxy_route(void *ctx, struct uigw_sip *sip)
{
	if (!sip->cfg.proxy_host)
		return talloc_strdup(ctx, "");
	return talloc_asprintf(ctx, "Route: <sip:%s:%u;%slr>\r\n", sip->cfg.proxy_host, sip->cfg.proxy_port,
			       sip->cfg.proxy_tcp ? "transport=tcp;" : "");
}

struct sip_conn *sip_target_conn(struct uigw_sip *sip, const char *target)
{
	struct sockaddr_in dst = { .sin_family = AF_INET };
	osip_uri_param_t *tp = NULL;
	struct sip_conn *c = NULL;
	osip_uri_t *u = NULL;

	if (sip->cfg.proxy_host)
		return sip_proxy_conn(sip);
	if (!sip->cfg.tcp || !target || strncasecmp(target, "sip:", 4) || !strcasestr(target, "transport=tcp"))
		return NULL;
	if (osip_uri_init(&u) != 0)
		return NULL;
	if (osip_uri_parse(u, target) != 0 || osip_uri_uparam_get_byname(u, "transport", &tp) != 0 || !tp ||
	    !tp->gvalue || strcasecmp(tp->gvalue, "tcp") || !u->host || inet_pton(AF_INET, u->host, &dst.sin_addr) != 1)
		goto out;
	dst.sin_port = htons(u->port ? atoi(u->port) : 5060);
	c = sip_conn_to(sip, &dst);
out:
	osip_uri_free(u);
	return c;
}

struct sip_conn *sip_proxy_conn(struct uigw_sip *sip)
{
	struct sockaddr_in dst;

	if (!sip->cfg.proxy_host || !sip->cfg.proxy_tcp || !sip->proxy_resolved)
		return NULL;
	dst = sip->proxy_addr;
	dst.sin_port = htons(sip->cfg.proxy_port);
	return sip_conn_to(sip, &dst);
}

int uigw_sip_proxy_resolve(struct uigw_sip *sip)
{
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_DGRAM }, *res = NULL;
	int rc;

	sip->proxy_resolved = false;
	if (!sip->cfg.proxy_host)
		return 0;
	rc = getaddrinfo(sip->cfg.proxy_host, NULL, &hints, &res);
	if (rc != 0 || !res) {
		LOGP(DSIP, LOGL_ERROR, "cannot resolve the outbound proxy '%s': %s; requests to subscribers fail until "
		     "it is set again or osmo-uigw restarts\n", sip->cfg.proxy_host, gai_strerror(rc));
		return -EHOSTUNREACH;
	}
	memcpy(&sip->proxy_addr, res->ai_addr, sizeof(sip->proxy_addr));
	freeaddrinfo(res);
	sip->proxy_resolved = true;
	LOGP(DSIP, LOGL_INFO, "outbound proxy %s is %s\n", sip->cfg.proxy_host, inet_ntoa(sip->proxy_addr.sin_addr));
	return 0;
}

int sip_resolve(struct uigw_sip *sip, const char *host, int port, struct sockaddr_in *sin)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port > 0 ? port : 5060);
	if (!host)
		return -EINVAL;
	/* the outbound proxy by its configured name: the address looked up when it was set */
	if (sip->cfg.proxy_host && !strcasecmp(host, sip->cfg.proxy_host)) {
		if (!sip->proxy_resolved)
			return -EHOSTUNREACH;
		sin->sin_addr = sip->proxy_addr.sin_addr;
		return 0;
	}
	if (!strcasecmp(host, "localhost"))
		host = "127.0.0.1";
	if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
		return -EHOSTUNREACH;	/* no DNS on the event loop: numeric addresses only */
	return 0;
}

/* where a request goes: the first Route (the outbound proxy's loose route), else the Request-URI */
int sip_request_dst(struct uigw_sip *sip, const osip_message_t *msg, struct sockaddr_in *dst)
{
	osip_route_t *route = NULL;
	const osip_uri_t *u;

	osip_message_get_route(msg, 0, &route);
	u = route && route->url ? route->url : msg->req_uri;
	if (!u)
		return -EINVAL;
	return sip_resolve(sip, u->host, u->port ? atoi(u->port) : 5060, dst);
}
