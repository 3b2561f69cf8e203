/*! \file logging.c
 *  Log categories of osmo-uigw: one per subsystem. */

#include <osmocom/core/logging.h>
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
