/*
 * legacy.c — the original Go Wire's `POST /connector/NAME` body mapped onto
 * Wire's pipeline document.
 *
 * The original describes a connector as a source and a sink, each
 * {name, type, key, config} with string config values and its own key names.
 * We produce the equivalent pipeline document as JSON and let the caller run
 * it through the normal spec validator: one place decides what a valid
 * pipeline is, and an unknown type (kafka, before Wire has it) is reported
 * there by name. This file only checks the shape of the body.
 *
 * Strings are re-encoded rather than copied: the document goes to the YAML
 * loader, which does not read every JSON escape (\u surrogate pairs), so we
 * write them as plain UTF-8 with only the escapes YAML shares with JSON.
 */
#include <stdlib.h>
#include <string.h>

#include "api/legacy.h"
#include "core/json.h"

/* Legacy config keys whose Wire name differs (for a kind and type, NULL: any);
   all others pass through. */
typedef struct rename {
    const char *kind, *type, *from, *to;
} rename_t;
static const rename_t renames[] = {
    {NULL, NULL, "file_path", "path"},
    {NULL, "kafka", "bootstrap_servers", "brokers"},
    {"source", "kafka", "topic", "topics"},
    {"source", "kafka", "group", "group_id"},
};

static bool rename_applies(const rename_t *r, const char *kind, const char *type)
{
    return (!r->kind || strcmp(r->kind, kind) == 0) && (!r->type || strcmp(r->type, type) == 0);
}

static int key_is(const wire_json_val *k, const char *s)
{
    return k->kind == WIRE_JSON_STRING && wire_json_str_eq(k->p + 1, k->n - 2, s, strlen(s));
}

/* A validated string value (or key when `key`), re-encoded. */
static void write_string(wire_jw *w, const wire_json_val *v, bool key)
{
    char *tmp = wire_xmalloc(v->n > 2 ? v->n - 2 : 1);
    size_t k = wire_json_unescape(v->p + 1, v->n - 2, tmp);
    if (key)
        wire_jw_keyn(w, tmp, k);
    else
        wire_jw_strn(w, tmp, k);
    free(tmp);
}

/* Copy a validated value, re-encoding every string in it. */
static void write_value(wire_jw *w, const wire_json_val *v)
{
    wire_json_iter it;
    wire_json_val key, el;
    switch (v->kind) {
    case WIRE_JSON_STRING: write_string(w, v, false); break;
    case WIRE_JSON_OBJECT:
        wire_jw_obj(w);
        wire_json_iter_init(&it, v);
        while (wire_json_iter_next(&it, &key, &el)) {
            write_string(w, &key, true);
            write_value(w, &el);
        }
        wire_jw_end(w);
        break;
    case WIRE_JSON_ARRAY:
        wire_jw_arr(w);
        wire_json_iter_init(&it, v);
        while (wire_json_iter_next(&it, NULL, &el))
            write_value(w, &el);
        wire_jw_end(w);
        break;
    default: wire_jw_raw(w, v->p, v->n); break; /* number, true, false, null */
    }
}

/*
 * A component name as Wire accepts it ([A-Za-z0-9_-]{1,64}): the original
 * took any text ("File Source"), so each other character becomes '_' and the
 * name is cut at 64, rather than failing a body the original accepted.
 */
static void write_name(wire_jw *w, const wire_json_val *v)
{
    char *tmp = wire_xmalloc(v->n > 2 ? v->n - 2 : 1);
    size_t k = wire_json_unescape(v->p + 1, v->n - 2, tmp), o = 0;
    for (size_t i = 0; i < k && o < 64; o++) {
        unsigned char c = (unsigned char)tmp[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '_' || c == '-') {
            tmp[o] = (char)c;
            i++;
        } else {
            size_t seq = wire_utf8_seq(tmp + i, k - i);
            tmp[o] = '_';
            i += seq ? seq : 1;
        }
    }
    wire_jw_strn(w, tmp, o);
    free(tmp);
}

static const char *kind_name(wire_json_kind k)
{
    switch (k) {
    case WIRE_JSON_NULL: return "null";
    case WIRE_JSON_FALSE:
    case WIRE_JSON_TRUE: return "a boolean";
    case WIRE_JSON_NUMBER: return "a number";
    case WIRE_JSON_STRING: return "a string";
    case WIRE_JSON_ARRAY: return "an array";
    case WIRE_JSON_OBJECT: return "an object";
    default: return "invalid";
    }
}

/* The config object, with legacy key names mapped to Wire's. */
static int write_config(wire_jw *w, const char *what, const char *type, const wire_json_val *cfg,
                        wire_err *err)
{
    for (size_t r = 0; r < WIRE_ARRAY_LEN(renames); r++) {
        const rename_t *rn = &renames[r];
        wire_json_val a, b;
        if (rename_applies(rn, what, type) &&
            wire_json_get(cfg->p, cfg->n, rn->from, strlen(rn->from), &a) &&
            wire_json_get(cfg->p, cfg->n, rn->to, strlen(rn->to), &b))
            return wire_errf(err, WIRE_EINVAL,
                             "%s.config: both '%s' and '%s' given ('%s' is the legacy name of "
                             "'%s'; keep one)",
                             what, rn->from, rn->to, rn->from, rn->to);
    }
    wire_json_iter it;
    wire_json_val key, val;
    wire_jw_obj(w);
    wire_json_iter_init(&it, cfg);
    while (wire_json_iter_next(&it, &key, &val)) {
        const char *to = NULL;
        for (size_t r = 0; r < WIRE_ARRAY_LEN(renames) && !to; r++)
            if (rename_applies(&renames[r], what, type) && key_is(&key, renames[r].from))
                to = renames[r].to;
        if (to)
            wire_jw_key(w, to);
        else
            write_string(w, &key, true);
        write_value(w, &val);
    }
    wire_jw_end(w);
    return 0;
}

/* One component: {"type":T[,"name":N][,"config":{...}]}. */
static int write_component(wire_jw *w, const char *body, size_t n, const char *what, wire_err *err)
{
    wire_json_val c, type, name, cfg;
    if (!wire_json_get(body, n, what, strlen(what), &c) || c.kind == WIRE_JSON_NULL)
        return wire_errf(err, WIRE_EINVAL, "%s: missing (the body needs \"source\" and \"sink\")",
                         what);
    if (c.kind != WIRE_JSON_OBJECT)
        return wire_errf(err, WIRE_EINVAL, "%s: must be an object, got %s", what,
                         kind_name(c.kind));
    if (!wire_json_get(c.p, c.n, "type", 4, &type))
        return wire_errf(err, WIRE_EINVAL, "%s.type: missing", what);
    if (type.kind != WIRE_JSON_STRING)
        return wire_errf(err, WIRE_EINVAL, "%s.type: must be a string, got %s", what,
                         kind_name(type.kind));
    if (type.n == 2)
        return wire_errf(err, WIRE_EINVAL, "%s.type: must not be empty", what);
    int has_name = wire_json_get(c.p, c.n, "name", 4, &name) && name.kind != WIRE_JSON_NULL;
    if (has_name && name.kind != WIRE_JSON_STRING)
        return wire_errf(err, WIRE_EINVAL, "%s.name: must be a string, got %s", what,
                         kind_name(name.kind));
    int has_cfg = wire_json_get(c.p, c.n, "config", 6, &cfg) && cfg.kind != WIRE_JSON_NULL;
    if (has_cfg && cfg.kind != WIRE_JSON_OBJECT)
        return wire_errf(err, WIRE_EINVAL, "%s.config: must be an object, got %s", what,
                         kind_name(cfg.kind));
    /* `key` (and anything else) is accepted and dropped: no Wire connector has it yet. */

    wire_jw_key(w, what);
    wire_jw_obj(w);
    wire_jw_key(w, "type");
    write_string(w, &type, false);
    if (has_name && name.n > 2) {
        wire_jw_key(w, "name");
        write_name(w, &name);
    }
    if (has_cfg) {
        char tname[64];
        size_t tl =
            type.n - 2 < sizeof(tname) ? wire_json_unescape(type.p + 1, type.n - 2, tname) : 0;
        tname[tl] = 0;
        wire_jw_key(w, "config");
        int rc = write_config(w, what, tname, &cfg, err);
        if (rc)
            return rc;
    }
    wire_jw_end(w);
    return 0;
}

int wire_legacy_pipeline(const char *name, const char *body, size_t n, wire_buf *out, wire_err *err)
{
    if (!name)
        return wire_errf(err, WIRE_EINVAL, "connector name missing");
    if (!body || n == 0)
        return wire_errf(err, WIRE_EINVAL,
                         "body is empty (expected {\"source\":{...},\"sink\":{...}})");
    wire_err jerr;
    if (wire_json_validate(body, n, &jerr) != 0)
        return wire_errf(err, WIRE_EINVAL, "body is not valid JSON: %s", jerr.msg);
    wire_json_val top;
    if (!wire_json_value(body, n, &top) || top.kind != WIRE_JSON_OBJECT)
        return wire_errf(err, WIRE_EINVAL, "body is not a JSON object, got %s",
                         kind_name(top.kind));

    wire_buf doc;
    wire_buf_init(&doc);
    wire_jw w;
    wire_jw_init(&w, &doc);
    wire_jw_obj(&w);
    wire_jw_kstr(&w, "name", name);
    int rc = write_component(&w, top.p, top.n, "source", err);
    if (rc == 0)
        rc = write_component(&w, top.p, top.n, "sink", err);
    if (rc == 0) {
        wire_jw_end(&w);
        wire_buf_append(out, doc.p, doc.len);
    }
    wire_buf_free(&doc);
    return rc;
}
