/*! \file main.c
 *  osmo-uigw: options, initialisation order, the event loop and a clean shutdown. Nothing else. */

#include <errno.h>
#include <getopt.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <signal.h>
#include <pthread.h>
#include <sys/signalfd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <osmocom/core/application.h>
#include <osmocom/core/logging.h>
#include <osmocom/core/select.h>
#include <osmocom/core/stats.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/fsm.h>
#include <osmocom/vty/vty.h>
#include <osmocom/vty/command.h>
#include <osmocom/vty/logging.h>
#include <osmocom/vty/misc.h>
#include <osmocom/vty/stats.h>
#include <osmocom/vty/telnet_interface.h>
#include <osmocom/vty/cpu_sched_vty.h>
#include <osmocom/ctrl/control_if.h>
#include <osmocom/ctrl/control_vty.h>
#include <osmocom/uigw/core/uigw.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/vty/vty.h>
#include <osmocom/uigw/chan/gsup.h>
#include <osmocom/uigw/chan/map.h>
#include <osmocom/uigw/chan/smpp.h>
#include <osmocom/uigw/chan/sip.h>
#include <osmocom/uigw/chan/vty.h>
#include <osmocom/uigw/ctrl/ctrl.h>
#include <osmocom/uigw/api/api.h>
#include <osmocom/uigw/core/chan.h>

#include "config.h"

#define UIGW_VTY_PORT	4290
#define UIGW_CTRL_PORT	4291

static const char *config_file = "osmo-uigw.cfg";
static int ctrl_port = UIGW_CTRL_PORT;	/* libosmocore 1.7's ctrl node has no port setting */
static bool quit;
static bool vty_ref_xml;	/* --vty-ref-xml: print the VTY reference and exit */
static enum vty_ref_gen_mode vty_ref_mode = VTY_REF_GEN_MODE_DEFAULT;

static struct vty_app_info vty_info = {
	.name = "OsmoUIGW",
	.version = PACKAGE_VERSION,
	.copyright =
	"Copyright (C) 2026 the osmo-uigw developers\r\n"
	"License AGPLv3+: GNU AGPL version 3 or later <http://gnu.org/licenses/agpl-3.0.html>\r\n"
	"This is free software: you are free to change and redistribute it.\r\n"
	"There is NO WARRANTY, to the extent permitted by law.\r\n",
	.go_parent_cb = uigw_vty_go_parent,
	.is_config_node = uigw_vty_is_config_node,
};

static void print_help(void)
{
	printf("Usage: osmo-uigw [-c FILE] [-C PORT] [-V] [-h] [--vty-ref-xml [--vty-ref-mode MODE]]\n"
	       "  -c, --config-file FILE  configuration in VTY syntax (default: %s)\n"
	       "  -C, --ctrl-port PORT    TCP port of the CTRL interface (default %d)\n"
	       "  -V, --version           print the version and exit\n"
	       "  -h, --help              this text\n"
	       "      --vty-ref-xml       print the VTY reference (XML) of every node and command and exit\n"
	       "      --vty-ref-mode MODE default, expert or hidden commands in that reference\n"
	       "VTY on 127.0.0.1:%d, CTRL on 127.0.0.1:%d unless the configuration says otherwise.\n",
	       config_file, UIGW_CTRL_PORT, UIGW_VTY_PORT, UIGW_CTRL_PORT);
}

static int handle_options(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config-file", 1, 0, 'c' },
		{ "ctrl-port", 1, 0, 'C' },
		{ "version", 0, 0, 'V' },
		{ "help", 0, 0, 'h' },
		{ "vty-ref-xml", 0, 0, 'X' },
		{ "vty-ref-mode", 1, 0, 'M' },
		{ 0, 0, 0, 0 }
	};
	int c;

	while ((c = getopt_long(argc, argv, "c:C:Vh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config_file = optarg;
			break;
		case 'C':
			ctrl_port = atoi(optarg);
			if (ctrl_port <= 0 || ctrl_port > 65535) {
				fprintf(stderr, "Invalid CTRL port %s\n", optarg);
				return -EINVAL;
			}
			break;
		case 'V':
			print_version(1);
			exit(0);
		case 'X':
			vty_ref_xml = true;
			break;
		case 'M':
			if (!strcmp(optarg, "default"))
				vty_ref_mode = VTY_REF_GEN_MODE_DEFAULT;
			else if (!strcmp(optarg, "expert"))
				vty_ref_mode = VTY_REF_GEN_MODE_EXPERT;
			else if (!strcmp(optarg, "hidden"))
				vty_ref_mode = VTY_REF_GEN_MODE_HIDDEN;
			else {
				fprintf(stderr, "Invalid --vty-ref-mode %s (default, expert or hidden)\n", optarg);
				return -EINVAL;
			}
			break;
		case 'h':
			print_help();
			exit(0);
		default:
			print_help();
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "Unexpected argument: %s\n", argv[optind]);
		return -EINVAL;
	}
	return 0;
}

/* Runs on the event loop (signalfd), so it may log and act. */
static void signal_cb(struct osmo_signalfd *osfd, const struct signalfd_siginfo *fdsi)
{
	switch (fdsi->ssi_signo) {
	case SIGINT:
	case SIGTERM:
		LOGP(DMAIN, LOGL_NOTICE, "signal %u: shutting down\n", fdsi->ssi_signo);
		quit = true;
		break;
	case SIGUSR1:
		talloc_report(osfd->data, stderr);
		break;
	default:
		break;
	}
}

int main(int argc, char **argv)
{
	void *root = talloc_named_const(NULL, 0, "osmo-uigw");
	void *gw_ctx = talloc_named_const(root, 0, "gateway");
	struct ctrl_handle *ctrl;
	struct uigw *gw;
	sigset_t sigs;
	int rc;

	/* every file the daemon writes (the database and its WAL, the pseudonym key, `write file`, log files) is the
	 * daemon user's alone: it holds subscriber data */
	umask(0077);
	/* every TCP peer (SIP, API, VTY, CTRL) takes a descriptor: the soft limit (often 1024) up to the hard one,
	 * so that the listeners' own bounds (e.g. sip tcp max-connections) are what limits them */
	{
		struct rlimit rl;

		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max;
			setrlimit(RLIMIT_NOFILE, &rl);
		}
	}
	msgb_talloc_ctx_init(root, 0);
	osmo_init_logging2(root, &uigw_log_info);
	log_set_print_category(osmo_stderr_target, 1);
	log_set_print_category_hex(osmo_stderr_target, 0);
	log_set_print_level(osmo_stderr_target, 1);
	/* the store's threads log through the main loop (common/logging.h) */
	if (uigw_log_threads_init() < 0) {
		fprintf(stderr, "Cannot set up logging for threads\n");
		exit(1);
	}

	vty_info.tall_ctx = root;
	vty_init(&vty_info);
	logging_vty_add_cmds();
	osmo_talloc_vty_add_cmds();
	osmo_fsm_vty_add_cmds();
	osmo_stats_vty_add_cmds();
	osmo_stats_init(root);
	ctrl_vty_init(root);

	rc = handle_options(argc, argv);
	if (rc < 0)
		exit(2);

	gw = uigw_alloc(gw_ctx);
	if (!gw) {
		fprintf(stderr, "Out of memory\n");
		exit(1);
	}
	uigw_vty_init(gw);
	if (uigw_vty_chan_init(gw) < 0 || uigw_gsup_init(gw) < 0) {
		fprintf(stderr, "Out of memory\n");
		exit(1);
	}
	if (uigw_smpp_init(gw) < 0) {
		fprintf(stderr, "Out of memory\n");
		exit(1);
	}
	/* the cs7 objects of libosmo-sigtran live beside the gateway, in the process's root context */
	if (uigw_map_init(gw, root) < 0) {
		fprintf(stderr, "Out of memory\n");
		exit(1);
	}
	if (uigw_sip_init(gw) < 0) {
		fprintf(stderr, "Out of memory\n");
		exit(1);
	}
	if (uigw_api_init(gw) < 0) {
		fprintf(stderr, "Out of memory\n");
		exit(1);
	}

	uigw_vty_timers_init(gw);
	if (vty_ref_xml) {
		/* every node and command is installed now: the reference, and nothing else */
		vty_dump_xml_ref_mode(stdout, vty_ref_mode);
		uigw_free(gw);
		exit(0);
	}

	rc = vty_read_config_file(config_file, NULL);
	if (rc < 0) {
		fprintf(stderr, "Failed to read the configuration file '%s'\n", config_file);
		exit(1);
	}

	rc = telnet_init_default(root, gw, UIGW_VTY_PORT);
	if (rc < 0) {
		fprintf(stderr, "Cannot open the VTY on port %d\n", UIGW_VTY_PORT);
		exit(1);
	}
	ctrl = ctrl_interface_setup_dynip2(gw, ctrl_vty_get_bind_addr(), ctrl_port, NULL, 0);
	if (!ctrl) {
		fprintf(stderr, "Cannot open the CTRL interface on port %d\n", ctrl_port);
		exit(1);
	}
	uigw_ctrl_init();
	uigw_ctrl_guard(gw, ctrl);

	/* blocked before any thread exists (the store's writer), so that only the signalfd sees them */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	rc = uigw_start(gw);
	if (rc < 0) {
		LOGP(DMAIN, LOGL_FATAL, "start-up failed: %s\n", strerror(-rc));
		exit(1);
	}
	/* every channel opens: without an HLR or an SMSC the links stay down and retry (not fatal); SIP
	 * listeners that cannot open are fatal, the operator configured them */
	if (uigw_chans_open(gw) < 0) {
		LOGP(DMAIN, LOGL_FATAL, "cannot open the channels\n");
		exit(1);
	}
	/* a configured listener that cannot open is fatal, as for SIP */
	if (uigw_api_start(gw) < 0) {
		LOGP(DMAIN, LOGL_FATAL, "cannot start the HTTP API\n");
		exit(1);
	}

	osmo_signalfd_setup(root, sigs, signal_cb, gw_ctx);

	LOGP(DMAIN, LOGL_NOTICE, "osmo-uigw %s running: VTY %s:%d, CTRL %s:%d\n", PACKAGE_VERSION,
	     vty_get_bind_addr(), vty_get_bind_port(UIGW_VTY_PORT), ctrl_vty_get_bind_addr(), ctrl_port);

	while (!quit)
		osmo_select_main_ctx(0);

	uigw_api_stop(gw);
	uigw_chans_close(gw);
	/* ends running dialogs, commits what is queued, closes the database */
	uigw_free(gw);
	/* what the store's threads said last, now that they have ended */
	uigw_log_threads_exit();
	if (talloc_total_blocks(gw_ctx) != 1) {
		LOGP(DMAIN, LOGL_ERROR, "memory left after shutdown:\n");
		talloc_report_full(gw_ctx, stderr);
		rc = 1;
	} else {
		LOGP(DMAIN, LOGL_NOTICE, "shut down cleanly, talloc report empty\n");
		rc = 0;
	}
	log_fini();
	return rc;
}
