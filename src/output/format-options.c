/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * FormatOptions (fields.h): what the fields.* settings make of an entry,
 * masked by a Redactor it borrows (built from redaction.* by its owner),
 * built once per configuration so that formatting an exchange only reads it.
 */

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

#include "basic/macro.h"
#include "output/fields.h"
#include "select/redact.h"

/* The optional fields' defaults are their rows' default_on (fields_toggled 0). */
const FormatOptions format_options_default = {
        .priority = {
                [PRIORITY_1XX]          = LOG_INFO,
                [PRIORITY_2XX]          = LOG_INFO,
                [PRIORITY_3XX]          = LOG_INFO,
                [PRIORITY_4XX]          = LOG_NOTICE,
                [PRIORITY_5XX]          = LOG_WARNING,
                [PRIORITY_NO_RESPONSE]  = LOG_NOTICE,
                [PRIORITY_UNCORRELATED] = LOG_INFO,
                [PRIORITY_PARSE_ERROR]  = LOG_WARNING,
                [PRIORITY_GRPC_OK]      = LOG_INFO,
                [PRIORITY_GRPC_CLIENT_ERROR] = LOG_NOTICE,
                [PRIORITY_GRPC_SERVER_ERROR] = LOG_WARNING,
        },
};

static void header_done(FormatHeader *h) {
        for (size_t i = 0; i < h->n_names; i++)
                free(h->names[i]);
        free(h->names);
}

static void headers_free(FormatHeader *l, size_t n) {
        for (size_t i = 0; i < n; i++)
                header_done(&l[i]);
        free(l);
}

FormatOptions *format_options_free(FormatOptions *o) {
        if (!o)
                return NULL;
        headers_free(o->request_headers, o->n_request_headers);
        headers_free(o->response_headers, o->n_response_headers);
        return mfree(o);
}

static void set_toggled(FormatOptions *o, size_t i, bool on) {
        uint64_t bit = UINT64_C(1) << i;

        if (on != format_field_specs[i].default_on)
                o->fields_toggled |= bit;
        else
                o->fields_toggled &= ~bit;
}

int format_options_set_field(FormatOptions *o, const char *setting, bool on) {
        bool found = false;

        for (size_t i = 0; setting && i < format_field_specs_n; i++)
                if (format_field_specs[i].kind == FORMAT_FIELD_OPTIONAL &&
                    strcmp(format_field_specs[i].setting, setting) == 0) {
                        set_toggled(o, i, on);
                        found = true;
                }
        return found ? 0 : -ENOENT;
}

int format_options_get_field(const FormatOptions *o, const char *setting) {
        for (size_t i = 0; setting && i < format_field_specs_n; i++)
                if (format_field_specs[i].kind == FORMAT_FIELD_OPTIONAL &&
                    strcmp(format_field_specs[i].setting, setting) == 0)
                        return format_field_enabled(o, i);
        return -ENOENT;
}

int format_options_new(FormatOptions **ret) {
        FormatOptions *o = malloc(sizeof(*o));

        if (!o)
                return -ENOMEM;
        *o = format_options_default;
        *ret = o;
        return 0;
}

void format_options_set_redactor(FormatOptions *o, const Redactor *r) {
        o->redactor = r;
}

static int names_append(FormatHeader *h, const char *name) {
        char **l;
        char *d;

        for (size_t i = 0; i < h->n_names; i++)
                if (strcasecmp(h->names[i], name) == 0)
                        return 0;

        d = strdup(name);
        if (!d)
                return -ENOMEM;
        l = realloc(h->names, (h->n_names + 1) * sizeof(char *));
        if (!l) {
                free(d);
                return -ENOMEM;
        }
        l[h->n_names++] = d;
        h->names = l;
        return 0;
}

int format_options_add_header(FormatOptions *o, bool response, const char *name) {
        FormatHeader **list = response ? &o->response_headers : &o->request_headers;
        size_t *n = response ? &o->n_response_headers : &o->n_request_headers;
        char field[FORMAT_FIELD_NAME_MAX + 1];
        FormatHeader *l;
        int r;

        r = format_header_field_name(field, response ? "HTTP_RESPONSE_HEADER_" : "HTTP_REQUEST_HEADER_", name);
        if (r < 0)
                return r;

        /* "X-Id" and "x-id", or "X.Id" and "X-Id": one field, logged once. */
        for (size_t i = 0; i < *n; i++)
                if (strcmp((*list)[i].field, field) == 0)
                        return names_append(&(*list)[i], name);

        l = realloc(*list, (*n + 1) * sizeof(FormatHeader));
        if (!l)
                return -ENOMEM;
        *list = l;
        l[*n] = (FormatHeader) {};
        memcpy(l[*n].field, field, sizeof(field));
        r = names_append(&l[*n], name);
        if (r < 0)
                return r;
        (*n)++;
        return 0;
}

int format_options_new_from_config(const Config *c, const Redactor *redactor, FormatOptions **ret) {
        _cleanup_(format_options_freep) FormatOptions *o = NULL;
        int r;

        r = format_options_new(&o);
        if (r < 0)
                return r;

        for (size_t i = 0; i < c->fields.request_headers.n; i++) {
                r = format_options_add_header(o, false, c->fields.request_headers.items[i]);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < c->fields.response_headers.n; i++) {
                r = format_options_add_header(o, true, c->fields.response_headers.items[i]);
                if (r < 0)
                        return r;
        }
        /* Each optional row reads its own boolean setting, found by key in the settings table. */
        for (size_t i = 0; i < format_field_specs_n; i++) {
                const FormatFieldSpec *f = &format_field_specs[i];
                const ConfigSetting *s;

                if (f->kind != FORMAT_FIELD_OPTIONAL)
                        continue;
                s = config_setting_find(f->setting);
                if (!s || s->type != CONFIG_BOOL)
                        return -EINVAL;         /* a bug in the field table; test-format catches it */
                set_toggled(o, i, *(const bool *) ((const uint8_t *) c + s->offset));
        }
        memcpy(o->priority, c->fields.priority, sizeof(o->priority));
        o->redactor = redactor;

        *ret = TAKE_PTR(o);
        return 0;
}
