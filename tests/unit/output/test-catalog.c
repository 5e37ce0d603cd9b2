/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The MESSAGE_IDs are a public contract, written down in
 * docs/journal-fields.md (its tables' "| `<32 hex>` | kind |" rows). The
 * FORMAT_MESSAGE_ID_* defined in src/output/entry.h (read as text, so a new id is
 * caught without touching this test) are exactly the documented ones; each
 * documented id has exactly one catalog entry with a Subject, every entry
 * belongs to a documented id, and every @FIELD@ an entry substitutes is a
 * documented field, since journalctl -x leaves an unknown @NAME@ unreplaced.
 * test-format holds each kind of entry to its documented id.
 */

#include <ctype.h>
#include <errno.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "read-source.h"

#define IDS_MAX 64

static bool is_id(const char *s) {
        for (int i = 0; i < 32; i++)
                if (!isxdigit((unsigned char) s[i]) || isupper((unsigned char) s[i]))
                        return false;
        return !isxdigit((unsigned char) s[32]);
}

/* Ids from "#define FORMAT_MESSAGE_ID_<NAME> "<32 hex>"" lines. */
static size_t header_ids(const char *text, char ids[IDS_MAX][33]) {
        size_t n = 0;

        for (const char *p = text; (p = strstr(p, "#define FORMAT_MESSAGE_ID_")); p++) {
                const char *q = strchr(p, '"');

                assert_non_null(q);
                assert_true(q < strchr(p, '\n'));
                if (!is_id(q + 1))
                        fail_msg("malformed MESSAGE_ID in entry.h near: %.60s", p);
                assert_true(n < IDS_MAX);
                memcpy(ids[n], q + 1, 32);
                ids[n++][32] = 0;
        }
        return n;
}

/* Ids from the doc's table rows "| `<32 hex>` | ...". */
static size_t doc_ids(const char *text, char ids[IDS_MAX][33]) {
        size_t n = 0;

        for (const char *line = text; line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
                if (strncmp(line, "| `", 3) != 0 || !is_id(line + 3) || strncmp(line + 35, "` |", 3) != 0)
                        continue;
                assert_true(n < IDS_MAX);
                memcpy(ids[n], line + 3, 32);
                ids[n++][32] = 0;
        }
        return n;
}

static bool id_in(const char *id, char ids[IDS_MAX][33], size_t n) {
        for (size_t i = 0; i < n; i++)
                if (strcmp(ids[i], id) == 0)
                        return true;
        return false;
}

static bool field_documented(const char *doc, const char *name) {
        size_t len = strlen(name);

        for (const char *p = doc; (p = strstr(p, name)); p++) {
                char before = p == doc ? ' ' : p[-1], after = p[len];

                if (!(isupper((unsigned char) before) || isdigit((unsigned char) before) || before == '_') &&
                    !(isupper((unsigned char) after) || isdigit((unsigned char) after) || after == '_'))
                        return true;
        }
        return false;
}

static void test_catalog_matches_doc(void **state) {
        char *header = read_source("src/output/entry.h");
        char *catalog = read_source("src/catalog/http-tracer.catalog");
        char *doc = read_source("docs/journal-fields.md");
        char ids[IDS_MAX][33], code[IDS_MAX][33];
        unsigned seen[IDS_MAX] = {};
        size_t n_ids = doc_ids(doc, ids), n_code = header_ids(header, code);
        char *line, *save = NULL;
        int current = -1;
        bool subject = false;

        /* Seven kinds today (four of traffic, three of the daemon's own). */
        if (n_ids < 7)
                fail_msg("docs/journal-fields.md: found %zu MESSAGE_ID rows, expected at least 7", n_ids);
        for (size_t i = 0; i < n_ids; i++)
                for (size_t j = i + 1; j < n_ids; j++)
                        if (strcmp(ids[i], ids[j]) == 0)
                                fail_msg("MESSAGE_ID %s is documented twice in docs/journal-fields.md", ids[i]);
        for (size_t i = 0; i < n_code; i++)
                if (!id_in(code[i], ids, n_ids))
                        fail_msg("MESSAGE_ID %s is defined in entry.h but not documented in docs/journal-fields.md",
                                 code[i]);
        for (size_t i = 0; i < n_ids; i++)
                if (!id_in(ids[i], code, n_code))
                        fail_msg("MESSAGE_ID %s is documented in docs/journal-fields.md but not defined in entry.h",
                                 ids[i]);

        for (line = strtok_r(catalog, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                if (strncmp(line, "-- ", 3) == 0) {
                        if (current >= 0 && !subject)
                                fail_msg("catalog entry %s has no Subject:", ids[current]);
                        if (!is_id(line + 3))
                                fail_msg("malformed catalog header: %s", line);
                        current = -1;
                        for (size_t i = 0; i < n_ids; i++)
                                if (strncmp(line + 3, ids[i], 32) == 0)
                                        current = (int) i;
                        if (current < 0)
                                fail_msg("catalog entry %.32s is not a MESSAGE_ID of docs/journal-fields.md", line + 3);
                        seen[current]++;
                        subject = false;
                        continue;
                }
                if (current < 0)
                        continue;   /* comments before the first entry */
                if (strncmp(line, "Subject: ", 9) == 0)
                        subject = true;

                /* Each @NAME@ must be a field we document (and so, send). */
                for (char *p = strchr(line, '@'); p; ) {
                        char *q = strchr(p + 1, '@');
                        char name[80];
                        size_t len;

                        if (!q)
                                break;
                        len = (size_t) (q - p - 1);
                        if (len == 0 || len >= sizeof(name) || strspn(p + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != len) {
                                p = q;   /* not a substitution (e.g. an address): look on from the next '@' */
                                continue;
                        }
                        memcpy(name, p + 1, len);
                        name[len] = 0;
                        if (!field_documented(doc, name))
                                fail_msg("catalog entry %s uses @%s@, which docs/journal-fields.md does not document",
                                         ids[current], name);
                        p = strchr(q + 1, '@');
                }
        }
        if (current >= 0 && !subject)
                fail_msg("catalog entry %s has no Subject:", ids[current]);

        for (size_t i = 0; i < n_ids; i++)
                if (seen[i] != 1)
                        fail_msg("documented MESSAGE_ID %s has %u catalog entries, expected 1", ids[i], seen[i]);

        free(header);
        free(catalog);
        free(doc);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_catalog_matches_doc),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
