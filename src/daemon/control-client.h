/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The client side of the control socket, for `http-tracer status` and
 * `http-tracer reload` (ExecReload=): one blocking call with a deadline,
 * and the printing of answers for people and for scripts.
 * docs/control-protocol.md describes the protocol.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/*
 * The default deadline of one call. Generous because the first `status`
 * through http-tracer.socket starts the daemon, and loading the BPF
 * programs takes a second or two; short of ExecReload's default timeout.
 */
#define CONTROL_CLIENT_TIMEOUT_DEFAULT_USEC (30 * UINT64_C(1000000))

/**
 * control_client_call() - send one request, wait for its answer
 * @path: the socket, normally CONTROL_SOCKET_PATH
 * @request_line: one JSON object, with or without the trailing newline
 * @timeout_usec: for connecting, sending and receiving together;
 *                0 for CONTROL_CLIENT_TIMEOUT_DEFAULT_USEC
 * @ret_response: the answer line without its newline, NUL-terminated, to free()
 *
 * Return: 0; -ENOENT or -ECONNREFUSED when no daemon listens at @path
 * (not running); -EACCES when the socket refuses us (not root);
 * -ETIMEDOUT; -EBADMSG when the daemon closed without a complete line or
 * the answer is over CONTROL_SERVICES_RESPONSE_MAX (the largest answer);
 * other negative errno.
 */
int control_client_call(const char *path, const char *request_line, uint64_t timeout_usec,
                        char **ret_response);

/**
 * control_request_line() - the request line for a command
 * @command: "status", "reload", "stats-reset"
 * @ret: e.g. {"version":1,"command":"status"} and a newline, to free()
 *
 * Return: 0 or -ENOMEM.
 */
int control_request_line(const char *command, char **ret);

/**
 * control_response_check() - whether an answer reports success
 * @response: an answer line
 * @ret_message: on failure, a message for people (the daemon's message and
 *               any reload errors, one per line), to free(); may be NULL
 *
 * Return: 0 when the answer says "ok": true; -EBADMSG when it is not a
 * protocol answer; a negative errno matching the error otherwise (-EPERM,
 * -EINVAL for a failed reload, -EOPNOTSUPP, -EPROTO for a version mismatch,
 * -EBUSY, -EIO).
 */
int control_response_check(const char *response, char **ret_message);

/**
 * control_status_print() - print a `status` answer
 * @f: where to
 * @response: the answer line
 * @json: print the status object as one JSON line (for scripts) instead of
 *        the summary for people
 *
 * Return: 0, or -EBADMSG when @response is not a successful status answer.
 */
int control_status_print(FILE *f, const char *response, bool json);
