/*! \file hash.h
 *  The one string hash of the project (FNV-1a): hash tables keyed by subscriber or transaction, the
 *  direct-mapped "seen" tables. Not for anything an attacker could aim collisions at to do harm: the tables
 *  that use it are bounded and a collision costs only a longer chain or one forgotten entry. */
#pragma once

#include <stdint.h>
#include <stddef.h>

/*! 32-bit FNV-1a of the NUL-terminated \a s, started from \a seed (0 for the plain hash). */
static inline uint32_t uigw_hash32(const char *s, uint32_t seed)
{
	uint32_t h = 2166136261u ^ seed;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

/*! 32-bit FNV-1a of \a len bytes at \a p, continuing from \a h (start with UIGW_HASH32_INIT). */
#define UIGW_HASH32_INIT 2166136261u
static inline uint32_t uigw_hash32_mem(uint32_t h, const void *p, size_t len)
{
	const uint8_t *b = p;

	while (len--)
		h = (h ^ *b++) * 16777619u;
	return h;
}

/*! 64-bit FNV-1a of \a len bytes at \a p (a file's content, to tell versions apart). */
static inline uint64_t uigw_hash64_mem(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint64_t h = 14695981039346656037ull;

	while (len--)
		h = (h ^ *b++) * 1099511628211ull;
	return h;
}

/*! 64-bit FNV-1a of the NUL-terminated \a s; never 0 (0 marks a free slot in direct-mapped tables). */
static inline uint64_t uigw_hash64(const char *s)
{
	uint64_t h = 14695981039346656037ull;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return h ? h : 1;
}
