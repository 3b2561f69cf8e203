/*! \file logging.h
 *  One log category per subsystem. */
#pragma once

#include <osmocom/core/logging.h>

enum {
	DMAIN,		/*!< daemon start-up, shutdown, configuration */
	DCAMP,		/*!< campaign loading and routing */
	DDLG,		/*!< dialog engine */
	DREND,		/*!< renderer */
	DSTORE,		/*!< feedback store */
	DVTYCH,		/*!< operator test-drive channel */
	DSMPP,		/*!< SMPP adapter */
	DGSUP,		/*!< GSUP adapter */
	DSIP,		/*!< SIP / USSI adapter */
	DMAP,		/*!< SS7 MAP adapter */
	DAPI,		/*!< HTTP API */
};

extern const struct log_info uigw_log_info;
