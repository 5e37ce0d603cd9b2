/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Settings (src/daemon/settings.c): everything derived from a configuration
 * is built by one function, and a reload puts a new set in force or, on any
 * error, leaves the running one untouched. The reload runs against a real
 * manager (no BPF: the kernel filter is not applied in the kernel until
 * tracing starts).
 */

#define _GNU_SOURCE 1
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "basic/strv.h"
#include "daemon/settings.h"
#include "protocols/http2/protocol.h"

static char dir[] = "/tmp/test-settings-XXXXXX";
static char path[sizeof(dir) + 32];

static void write_config(const char *text) {
        FILE *f = fopen(path, "we");

        assert_non_null(f);
        assert_int_equal(fputs(text, f) >= 0, 1);
        assert_int_equal(fclose(f), 0);
}

static int setup(void **state) {
        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/http-tracer.yaml", dir);
        return 0;
}

static int teardown(void **state) {
        (void) unlink(path);
        (void) rmdir(dir);
        return 0;
}

static ConfigLoadOptions load_options(void) {
        return (ConfigLoadOptions) { .config_file = path, .no_dropins = true };
}

static Settings *settings_from(const char *text) {
        ConfigLoadOptions load = load_options();
        Settings *s = NULL;
        Config *c = NULL;

        write_config(text);
        assert_int_equal(settings_load_config(&load, &c), 0);
        assert_int_equal(settings_new(&load, c, &s), 0);
        return s;
}

static void test_everything_derived(void **state) {
        Settings *s = settings_from("limits:\n  idle_timeout: 2500ms\n  head_max: 32K\n"
                                    "capture:\n  payload_size: 4KiB\n  ring_buffer_size: 1MiB\n  wakeup_delay: 1ms\n"
                                    "stats:\n  interval: 0\n");

        assert_non_null(s->config);
        assert_non_null(s->format);
        /* One Redactor, for the target (manager) and the headers and excerpts (format options). */
        assert_non_null(s->redactor);
        assert_ptr_equal(s->format->redactor, s->redactor);
        assert_non_null(s->selector);
        assert_non_null(s->kernel_filter);

        assert_int_equal(s->limits.idle_timeout_ns, 2500 * NSEC_PER_MSEC);
        assert_int_equal(s->protocol_limits.http1.head_max, 32768);
        assert_int_equal(s->protocol_limits.http1.fields_max, 128);
        assert_int_equal(s->protocol_limits.http1.pipeline_max, 64);
        assert_int_equal(s->limits.conn_memory_max, 256 * 1024);
        assert_int_equal(s->limits.global_memory_max, 64 * 1024 * 1024);
        assert_int_equal(s->limits.conns_max, 65536);

        assert_int_equal(s->bpf.payload_max, 4096);
        assert_int_equal(s->bpf.ringbuf_size, 1024 * 1024);
        assert_int_equal(s->bpf.wakeup_bytes, 1024 * 1024 / 8);
        assert_int_equal(s->drain_interval_usec, 1000);
        assert_int_equal(s->stats_interval_usec, 0);
        assert_int_equal(s->output.sinks, OUTPUT_SINK(OUTPUT_JOURNAL));

        assert_string_equal(s->sources[0], path);
        assert_null(s->sources[1]);

        /* Loading registered the consumers' checks: no value passes unchecked. */
        for (size_t i = 0; i < config_settings_n; i++)
                assert_true(config_check_registered(config_settings[i].check));
        settings_free(s);
}

/* HTTP/2's caps: the table's defaults are protocol.c's http2_limits_default, and each key reaches its field. */
static void test_http2_limits(void **state) {
        Settings *s = settings_from("");
        const Http2ConnLimits *d = &http2_limits_default;

        assert_int_equal(s->protocol_limits.http2.streams_max, d->streams_max);
        assert_int_equal(s->protocol_limits.http2.header_block_max, d->header_block_max);
        assert_int_equal(s->protocol_limits.http2.continuations_max, d->continuations_max);
        assert_int_equal(s->protocol_limits.http2.fields_max, d->fields_max);
        assert_int_equal(s->protocol_limits.http2.list_bytes_max, d->list_bytes_max);
        assert_int_equal(s->protocol_limits.http2.hpack_memory_max, d->hpack_memory_max);
        settings_free(s);

        s = settings_from("limits:\n  http2_streams_max: 7\n  http2_header_block_max: 2KiB\n"
                          "  http2_continuations_max: 3\n  fields_max: 9\n  http2_header_list_max: 1KiB\n"
                          "  http2_hpack_memory_max: 100KiB\n");
        assert_int_equal(s->protocol_limits.http2.streams_max, 7);
        assert_int_equal(s->protocol_limits.http2.header_block_max, 2048);
        assert_int_equal(s->protocol_limits.http2.continuations_max, 3);
        assert_int_equal(s->protocol_limits.http2.fields_max, 9);
        assert_int_equal(s->protocol_limits.http2.list_bytes_max, 1024);
        assert_int_equal(s->protocol_limits.http2.hpack_memory_max, 100 * 1024);
        settings_free(s);
}

static void test_manager_options(void **state) {
        Settings *s = settings_from("");
        ManagerOptions o;

        settings_manager_options(s, &o);
        assert_ptr_equal(o.redactor, s->redactor);
        assert_ptr_equal(o.format, s->format);
        assert_ptr_equal(o.config_sources, s->sources);
        assert_ptr_equal(o.reload, settings_reload);
        assert_int_equal(o.protocol_limits.http1.head_max, s->protocol_limits.http1.head_max);
        assert_int_equal(o.bpf.conns_max, 16384);
        assert_int_equal(o.drain_interval_usec, 5000);
        assert_int_equal(o.stats_interval_usec, 300 * 1000 * 1000ull);
        settings_free(s);
}

static void test_reload(void **state) {
        Settings *s = settings_from("limits:\n  head_max: 32K\n");
        Settings *first = s;
        Manager *m = NULL;
        ManagerOptions o;
        char **errors = NULL;

        settings_manager_options(s, &o);
        o.output = output_options_single(OUTPUT_NONE);
        o.reload_userdata = &s;
        assert_int_equal(manager_new(&o, &m), 0);
        assert_int_equal(settings_start(m, s, false), 0);
        assert_null(s->selector);

        /* A new valid configuration replaces the settings in force. */
        write_config("limits:\n  head_max: 16K\n");
        assert_int_equal(settings_reload(m, &s, &errors), 0);
        assert_null(errors);
        assert_ptr_not_equal(s, first);
        assert_int_equal(s->protocol_limits.http1.head_max, 16384);
        assert_null(s->selector);
        assert_null(s->kernel_filter);

        /* An invalid one changes nothing and names every problem with its position. */
        first = s;
        write_config("limits:\n  head_max: lots\n  fields_max: 1\n");
        assert_int_equal(settings_reload(m, &s, &errors), -EINVAL);
        assert_ptr_equal(s, first);
        assert_int_equal(s->protocol_limits.http1.head_max, 16384);
        assert_non_null(errors);
        assert_non_null(errors[0]);
        assert_non_null(strstr(errors[0], ":2:13: limits.head_max: 'lots' is not a size"));
        assert_non_null(errors[1]);
        assert_non_null(strstr(errors[1], ":3:15: limits.fields_max: '1' is out of range"));
        assert_null(errors[2]);
        strv_free(errors);

        manager_free(m);
        settings_free(s);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_everything_derived),
                cmocka_unit_test(test_http2_limits),
                cmocka_unit_test(test_manager_options),
                cmocka_unit_test(test_reload),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
