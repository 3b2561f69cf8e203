/*! \file logging.h
 *  One log category per subsystem, and log lines from the store's threads handed to the main loop. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
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

/* libosmocore's logging (1.7) is not for threads: a `log stderr` or `log file` target without blocking-io writes
 * through a write queue (talloc'd msgbs in a list) that the main loop drains, and log_enable_multithread() only
 * guards the producer's side. Once uigw_log_threads_init() ran, a line logged on any other thread (the store's
 * writer, the charging writers) is formatted there and queued to the main loop, which logs it with its own source
 * file and line; lines past UIGW_LOG_THREAD_MAX_BYTES queued are dropped and counted. Every LOGP, LOGPSRC and
 * LOGPC of a file that includes this header takes this path. */
#define UIGW_LOG_THREAD_MAX_BYTES (1024 * 1024)

int uigw_log_threads_init(void);
void uigw_log_threads_drain(void);
void uigw_log_threads_exit(void);
bool uigw_log_off_main(void);
void uigw_log_thread_line(int ss, int level, const char *file, int line, int cont, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
/* lines queued and not yet logged, and lines dropped since the start (for tests and `show` commands) */
void uigw_log_threads_counts(size_t *queued, unsigned long *dropped);

#ifndef LIBOSMOCORE_NO_LOGGING
#undef LOGPSRCC
#define LOGPSRCC(ss, level, caller_file, caller_line, cont, fmt, args...) \
	do { \
		if (!osmo_log_info) { \
			if (caller_file) \
				logp_stub(caller_file, caller_line, cont, fmt, ##args); \
			else \
				logp_stub(__FILE__, __LINE__, cont, fmt, ##args); \
			break; \
		} \
		if (log_check_level(ss, level)) { \
			const char *uigw_lf_ = caller_file ? caller_file : __FILE__; \
			int uigw_ll_ = caller_file ? caller_line : __LINE__; \
			if (uigw_log_off_main()) \
				uigw_log_thread_line(ss, level, uigw_lf_, uigw_ll_, cont, fmt, ##args); \
			else \
				logp2(ss, level, uigw_lf_, uigw_ll_, cont, fmt, ##args); \
		} \
	} while (0)
#undef LOGPC
#define LOGPC(ss, level, fmt, args...) LOGPSRCC(ss, level, NULL, 0, 1, fmt, ##args)
#endif
