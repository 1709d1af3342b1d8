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

/* Legacy config keys whose Wire name differs; all others pass through. */
static const char *const renames[][2] = {
    {"file_path", "path"},
};

static int key_is(const wire_json_val *k, const char *s)
{
    return k->kind == WIRE_JSON_STRING && wire_json_str_eq(k->p + 1, k->n - 2, s, strlen(s));
}

static void write_string(wire_buf *out, const wire_json_val *v)
{
    char *tmp = wire_xmalloc(v->n > 2 ? v->n - 2 : 1);
    size_t k = wire_json_unescape(v->p + 1, v->n - 2, tmp);
    wire_json_write_str(out, tmp, k);
    free(tmp);
}

/* Copy a validated value, re-encoding every string in it. */
static void write_value(wire_buf *out, const wire_json_val *v)
{
    wire_json_iter it;
    wire_json_val key, el;
    int first = 1;
    switch (v->kind) {
    case WIRE_JSON_STRING: write_string(out, v); break;
    case WIRE_JSON_OBJECT:
        wire_buf_putc(out, '{');
        wire_json_iter_init(&it, v);
        while (wire_json_iter_next(&it, &key, &el)) {
            if (!first)
                wire_buf_putc(out, ',');
            first = 0;
            write_string(out, &key);
            wire_buf_putc(out, ':');
            write_value(out, &el);
        }
        wire_buf_putc(out, '}');
        break;
    case WIRE_JSON_ARRAY:
        wire_buf_putc(out, '[');
        wire_json_iter_init(&it, v);
        while (wire_json_iter_next(&it, NULL, &el)) {
            if (!first)
                wire_buf_putc(out, ',');
            first = 0;
            write_value(out, &el);
        }
        wire_buf_putc(out, ']');
        break;
    default: wire_buf_append(out, v->p, v->n); break; /* number, true, false, null */
    }
}

/*
 * A component name as Wire accepts it ([A-Za-z0-9_-]{1,64}): the original
 * took any text ("File Source"), so each other character becomes '_' and the
 * name is cut at 64, rather than failing a body the original accepted.
 */
static void write_name(wire_buf *out, const wire_json_val *v)
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
    wire_json_write_str(out, tmp, o);
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
static int write_config(wire_buf *out, const char *what, const wire_json_val *cfg, wire_err *err)
{
    for (size_t r = 0; r < WIRE_ARRAY_LEN(renames); r++) {
        wire_json_val a, b;
        if (wire_json_get(cfg->p, cfg->n, renames[r][0], strlen(renames[r][0]), &a) &&
            wire_json_get(cfg->p, cfg->n, renames[r][1], strlen(renames[r][1]), &b))
            return wire_errf(err, WIRE_EINVAL,
                             "%s.config: both '%s' and '%s' given ('%s' is the legacy name of "
                             "'%s'; keep one)",
                             what, renames[r][0], renames[r][1], renames[r][0], renames[r][1]);
    }
    wire_json_iter it;
    wire_json_val key, val;
    int first = 1;
    wire_buf_putc(out, '{');
    wire_json_iter_init(&it, cfg);
    while (wire_json_iter_next(&it, &key, &val)) {
        if (!first)
            wire_buf_putc(out, ',');
        first = 0;
        const char *to = NULL;
        for (size_t r = 0; r < WIRE_ARRAY_LEN(renames) && !to; r++)
            if (key_is(&key, renames[r][0]))
                to = renames[r][1];
        if (to)
            wire_json_write_str(out, to, strlen(to));
        else
            write_string(out, &key);
        wire_buf_putc(out, ':');
        write_value(out, &val);
    }
    wire_buf_putc(out, '}');
    return 0;
}

/* One component: {"type":T[,"name":N][,"config":{...}]}. */
static int write_component(wire_buf *out, const char *body, size_t n, const char *what,
                           wire_err *err)
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

    wire_json_write_str(out, what, strlen(what));
    wire_buf_append(out, ":{\"type\":", 9);
    write_string(out, &type);
    if (has_name && name.n > 2) {
        wire_buf_append(out, ",\"name\":", 8);
        write_name(out, &name);
    }
    if (has_cfg) {
        wire_buf_append(out, ",\"config\":", 10);
        int rc = write_config(out, what, &cfg, err);
        if (rc)
            return rc;
    }
    wire_buf_putc(out, '}');
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
    wire_buf_append(&doc, "{\"name\":", 8);
    wire_json_write_str(&doc, name, strlen(name));
    wire_buf_putc(&doc, ',');
    int rc = write_component(&doc, top.p, top.n, "source", err);
    if (rc == 0) {
        wire_buf_putc(&doc, ',');
        rc = write_component(&doc, top.p, top.n, "sink", err);
    }
    if (rc == 0) {
        wire_buf_putc(&doc, '}');
        wire_buf_append(out, doc.p, doc.len);
    }
    wire_buf_free(&doc);
    return rc;
}
