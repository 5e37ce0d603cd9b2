/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The parse error excerpt (HTTP_PARSE_ERROR_EXCERPT) with secrets masked.
 * Pure: bytes in, bytes out, no logging; fuzzed through fuzz-format.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct Redactor;

/**
 * excerpt_mask() - mask the secrets of a parse error excerpt, line by line
 * @r: the redactor (its secret headers, query parameters and mask)
 * @in: the excerpt's raw bytes
 * @n: their number, at most FORMAT_EXCERPT_MAX
 * @buf: output, raw bytes (the caller escapes them)
 * @size: its size; what does not fit is cut
 * @ret_len: bytes written to @buf
 *
 * Each line is masked on its own by redactor_text(): wherever a secret
 * header or parameter name stands before '=' or ':' (at the line's start,
 * after a blank, a comma, a brace, a quote, "%20"...), its value becomes the
 * mask. Line ends are kept as they were; a value never spans two lines.
 *
 * Return: 0; -EINVAL for more than FORMAT_EXCERPT_MAX bytes; -ENOMEM.
 */
int excerpt_mask(const struct Redactor *r, const uint8_t *in, size_t n, char *buf, size_t size, size_t *ret_len);
