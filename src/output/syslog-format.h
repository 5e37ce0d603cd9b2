/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Entries as syslog messages: the formatter's fields (format.h) turned into
 * one RFC 5424 message with STRUCTURED-DATA, or one RFC 3164 line for old
 * receivers, in a caller's buffer. Pure: no I/O, no allocation, no clock
 * (the caller passes the time; RFC 3164 renders it in the local time zone),
 * so it is unit-tested and fuzzed as is.
 * Also the parsers of the syslog settings (target, facility, severity,
 * format), shared by the configuration checks and the writer.
 *
 * Every value is hostile until proven otherwise: SD-PARAM values escape '"',
 * '\' and ']' (RFC 5424 §6.3.3); control characters and bytes that are not
 * UTF-8 become the text "\xNN" (with its backslash escaped, so a receiver
 * that unescapes sees exactly the journal's form of the value); header fields
 * are printable US-ASCII without spaces. A message never holds a newline.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "output/entry.h"

/*
 * The SD-ID of our structured data. 32473 is the private enterprise number
 * RFC 5612 reserves for documentation: a placeholder until the project
 * registers its own with IANA. Receivers match on the whole SD-ID, so it is
 * part of the interface (docs/forwarding.md).
 */
#define SYSLOG_ENTERPRISE_NUMBER "32473"
#define SYSLOG_SD_ID "http@" SYSLOG_ENTERPRISE_NUMBER
#define SYSLOG_APP_NAME FORMAT_SYSLOG_IDENTIFIER

/* RFC 5424 §6.2: HOSTNAME at most 255 octets, SD-NAME (PARAM-NAME) at most 32. */
#define SYSLOG_HOSTNAME_MAX 255u
#define SYSLOG_SD_NAME_MAX 32u

/*
 * Message size bounds. 2 KiB is what RFC 5424 §6.1 says every receiver
 * should accept; 60 KiB stays below UDP's 65507-byte payload limit. Longer
 * entries have their values cut (with "…") until they fit.
 */
#define SYSLOG_MESSAGE_MIN (2u * 1024u)
#define SYSLOG_MESSAGE_MAX (60u * 1024u)

/* "65535 ": the octet-counting prefix (RFC 6587 §3.4.1) of any message we make. */
#define SYSLOG_FRAME_PREFIX_MAX 8u

typedef enum SyslogFormat {
        SYSLOG_FORMAT_AUTO,          /* RFC 3164 on a unix socket (/dev/log readers), RFC 5424 on the network */
        SYSLOG_FORMAT_RFC5424,
        SYSLOG_FORMAT_RFC3164,
        _SYSLOG_FORMAT_MAX,
        _SYSLOG_FORMAT_INVALID = -EINVAL,
} SyslogFormat;

typedef enum SyslogTransport {
        SYSLOG_TRANSPORT_UNIX,       /* AF_UNIX datagrams to a path */
        SYSLOG_TRANSPORT_UDP,
        SYSLOG_TRANSPORT_TCP,        /* RFC 6587 octet-counting framing */
        _SYSLOG_TRANSPORT_MAX,
} SyslogTransport;

typedef struct SyslogTarget {
        SyslogTransport transport;
        char path[108];              /* UNIX: sizeof(sun_path) */
        char host[256];              /* UDP/TCP: name or address, without brackets */
        uint16_t port;               /* UDP/TCP; 514 when not given */
} SyslogTarget;

/* Severity "entry": use the entry's PRIORITY (fields.priority.* in the configuration). */
#define SYSLOG_SEVERITY_ENTRY (-1)

typedef struct SyslogFormatOptions {
        SyslogFormat format;         /* RFC5424 or RFC3164 (AUTO is resolved by the caller) */
        int facility;                /* 0..23 */
        int severity;                /* 0..7, or SYSLOG_SEVERITY_ENTRY */
        const char *hostname;        /* NULL: NILVALUE in RFC 5424, left out in RFC 3164 (local socket convention) */
        uint32_t procid;             /* our pid; 0: NILVALUE */
        size_t message_max;          /* bytes, SYSLOG_MESSAGE_MIN..SYSLOG_MESSAGE_MAX */
} SyslogFormatOptions;

const char *syslog_format_to_string(SyslogFormat f);
SyslogFormat syslog_format_from_string(const char *s);

/* "kern" … "local7", or "0".."23". Return: the facility, or -EINVAL. */
int syslog_facility_from_string(const char *s);
const char *syslog_facility_to_string(int facility);

/* "entry", a level name (emerg … debug) or "0".."7". Return: 0..7, SYSLOG_SEVERITY_ENTRY, or -EINVAL. */
int syslog_severity_from_string(const char *s);

/**
 * syslog_target_parse() - parse where syslog messages go
 * @s: "/path" or "unix:/path"; "udp://HOST[:PORT]"; "tcp://HOST[:PORT]";
 *     an IPv6 address in brackets ("udp://[::1]:514")
 * @ret: the target; written only on success
 * @ret_why: on failure, a static text saying what is wrong; may be NULL
 *
 * Return: 0, or -EINVAL.
 */
int syslog_target_parse(const char *s, SyslogTarget *ret, const char **ret_why);

/**
 * syslog_format_message() - one entry as one syslog message
 * @buf: output
 * @size: its size; options->message_max is always enough
 * @options: format, facility, severity, hostname, procid, size bound
 * @realtime_usec: the time to stamp, CLOCK_REALTIME in µs
 * @fields: the entry (format_exchange()'s fields)
 * @n_fields: how many
 * @ret_truncated: set to whether values were cut to fit message_max; may be NULL
 *
 * RFC 5424: "<PRI>1 TIMESTAMP HOSTNAME http-tracer PROCID MSGID
 * [http@32473 method="GET" …] MESSAGE": MSGID from MESSAGE_ID (exchange,
 * no-response, uncorrelated, parse-error, or "-"), an SD-PARAM per field
 * (the field name in lower case without "HTTP_"; PROCESS_PID is "pid";
 * MESSAGE, PRIORITY and SYSLOG_IDENTIFIER are in the header instead), MSG
 * the MESSAGE text without a BOM. RFC 3164: "<PRI>Mmm dd hh:mm:ss [HOSTNAME ]
 * http-tracer[PROCID]: MESSAGE" in local time
 * (what RFC 3164 receivers assume), structured data left out.
 *
 * Return: the message length (no NUL added), -EINVAL on bad options,
 * -ENOBUFS when @size is smaller than options->message_max.
 */
ssize_t syslog_format_message(char *buf, size_t size, const SyslogFormatOptions *options, uint64_t realtime_usec,
                              const FormatField *fields, size_t n_fields, bool *ret_truncated);

/**
 * syslog_frame_prefix() - RFC 6587 octet-counting prefix of a message
 * @buf: at least SYSLOG_FRAME_PREFIX_MAX bytes
 * @message_len: the message's length in octets
 *
 * Return: the prefix length ("123 " is 4); no NUL is written.
 */
size_t syslog_frame_prefix(char buf[static SYSLOG_FRAME_PREFIX_MAX], size_t message_len);

/**
 * syslog_frame_parse() - the length of the first octet-counted frame
 * @buf: stream bytes starting at a frame
 * @n: how many are available
 * @ret_frame_len: prefix plus message length
 *
 * Return: 0 with the length; -EAGAIN when @buf holds less than the prefix;
 * -EBADMSG when it does not start with "DIGITS SP".
 */
int syslog_frame_parse(const char *buf, size_t n, size_t *ret_frame_len);
