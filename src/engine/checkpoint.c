/*
 * checkpoint.c — checkpoint encoding and the local checkpoint store.
 *
 * Local store layout: DATA_DIR/checkpoints/PIPELINE/cp-<id, 20 digits>.ckpt,
 * the newest 3 kept. A file is a header line
 *     WIRECKP 1 <payload bytes> <crc32 of payload, hex>\n
 * followed by the JSON payload. Each file is written atomically (temp file,
 * fsync, rename, fsync of the directory). Loading takes the newest file whose
 * header, length and checksum verify; a torn or corrupt newer file is logged
 * and skipped, never a crash and never a silent restart from zero: if files
 * exist and none is valid, load fails.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "core/io.h"
#include "core/json.h"
#include "engine/checkpoint.h"
#include "engine/engine.h" /* wire_positions_json, wire_positions_parse */

#define CKPT_FORMAT 1
#define CKPT_KEEP 3

void wire_checkpoint_init(wire_checkpoint *cp)
{
    memset(cp, 0, sizeof(*cp));
}

void wire_checkpoint_clear(wire_checkpoint *cp)
{
    free(cp->pos);
    for (size_t i = 0; i < cp->nsinks; i++) {
        free(cp->sinks[i].name);
        free(cp->sinks[i].type);
        free(cp->sinks[i].json);
    }
    free(cp->sinks);
    wire_checkpoint_init(cp);
}

void wire_checkpoint_add_sink(wire_checkpoint *cp, const char *name, const char *type,
                              const char *json)
{
    cp->sinks = wire_xrealloc(cp->sinks, (cp->nsinks + 1) * sizeof(*cp->sinks));
    wire_sink_state *s = &cp->sinks[cp->nsinks++];
    s->name = wire_xstrdup(name);
    s->type = wire_xstrdup(type);
    s->json = wire_xstrdup(json);
}

const wire_sink_state *wire_checkpoint_sink(const wire_checkpoint *cp, const char *name,
                                            const char *type)
{
    for (size_t i = 0; i < cp->nsinks; i++)
        if (strcmp(cp->sinks[i].name, name) == 0 && strcmp(cp->sinks[i].type, type) == 0)
            return &cp->sinks[i];
    return NULL;
}

const wire_position *wire_checkpoint_position(const wire_checkpoint *cp, uint32_t split)
{
    for (size_t i = 0; i < cp->npos; i++)
        if (cp->pos[i].split == split)
            return &cp->pos[i];
    return NULL;
}

/* ---- encoding ---- */

static void put_u64_str(wire_jw *w, uint64_t v)
{
    /* identities are full 64-bit: strings, so no JSON reader rounds them */
    char hex[17];
    snprintf(hex, sizeof(hex), "%016" PRIx64, v);
    wire_jw_str(w, hex);
}

/* [{"split","flags","identity":[hex,hex],"epoch_ms","offset"}, ...] */
static void positions_write(wire_jw *w, const wire_position *pos, size_t n)
{
    wire_jw_arr(w);
    for (size_t i = 0; i < n; i++) {
        const wire_position *p = &pos[i];
        wire_jw_obj(w);
        wire_jw_kuint(w, "split", p->split);
        wire_jw_kuint(w, "flags", p->flags);
        wire_jw_key(w, "identity");
        wire_jw_arr(w);
        put_u64_str(w, p->identity[0]);
        put_u64_str(w, p->identity[1]);
        wire_jw_end(w);
        wire_jw_kint(w, "epoch_ms", p->epoch_ms);
        wire_jw_kuint(w, "offset", p->offset);
        wire_jw_end(w);
    }
    wire_jw_end(w);
}

void wire_positions_json(const wire_position *pos, size_t n, wire_buf *out)
{
    wire_jw w;
    wire_jw_init(&w, out);
    positions_write(&w, pos, n);
}

void wire_checkpoint_encode(const wire_checkpoint *cp, const char *pipeline, wire_buf *out)
{
    wire_jw w;
    wire_jw_init(&w, out);
    wire_jw_obj(&w);
    wire_jw_kstr(&w, "pipeline", pipeline);
    wire_jw_kuint(&w, "id", cp->id);
    wire_jw_kuint(&w, "version", cp->version);
    wire_jw_key(&w, "spec_hash");
    put_u64_str(&w, cp->spec_hash);
    wire_jw_kint(&w, "time_ms", cp->time_ms);
    wire_jw_key(&w, "positions");
    positions_write(&w, cp->pos, cp->npos);
    wire_jw_key(&w, "sinks");
    wire_jw_arr(&w);
    for (size_t i = 0; i < cp->nsinks; i++) {
        const wire_sink_state *s = &cp->sinks[i];
        wire_jw_obj(&w);
        wire_jw_kstr(&w, "name", s->name);
        wire_jw_kstr(&w, "type", s->type);
        wire_jw_key(&w, "state");
        wire_jw_raw(&w, s->json, strlen(s->json));
        wire_jw_end(&w);
    }
    wire_jw_end(&w);
    wire_jw_end(&w);
}

static int get_member(const char *obj, size_t n, const char *key, wire_json_kind kind,
                      wire_json_val *v, wire_err *err)
{
    if (!wire_json_get(obj, n, key, strlen(key), v) || v->kind != kind)
        return wire_errf(err, WIRE_EPARSE, "checkpoint: missing or mistyped '%s'", key);
    return 0;
}

static int get_u64(const char *obj, size_t n, const char *key, uint64_t *out, wire_err *err)
{
    wire_json_val v;
    int64_t i;
    double d;
    if (get_member(obj, n, key, WIRE_JSON_NUMBER, &v, err) != 0)
        return WIRE_EPARSE;
    if (wire_json_number(v.p, v.n, &i, &d) != WIRE_JSON_NUM_INT || i < 0)
        return wire_errf(err, WIRE_EPARSE, "checkpoint: '%s' is not a non-negative integer", key);
    *out = (uint64_t)i;
    return 0;
}

static int get_hex(const wire_json_val *v, uint64_t *out, wire_err *err)
{
    if (v->kind != WIRE_JSON_STRING || v->n != 18)
        return wire_errf(err, WIRE_EPARSE, "checkpoint: bad 64-bit hex value");
    char tmp[17];
    memcpy(tmp, v->p + 1, 16);
    tmp[16] = '\0';
    char *end;
    *out = strtoull(tmp, &end, 16);
    if (*end)
        return wire_errf(err, WIRE_EPARSE, "checkpoint: bad 64-bit hex value");
    return 0;
}

static char *dup_string(const wire_json_val *v)
{
    char *s = wire_xmalloc(v->n);
    size_t len = wire_json_unescape(v->p + 1, v->n - 2, s);
    s[len] = '\0';
    return s;
}

/* The array positions_write() writes; appends to *pos (realloc'd). */
static int positions_parse(const wire_json_val *arr, wire_position **out, size_t *nout,
                           wire_err *err)
{
    wire_json_val el;
    uint64_t u;
    int rc = 0;
    for (size_t i = 0; rc == 0 && wire_json_index(arr->p, arr->n, i, &el); i++) {
        if (el.kind != WIRE_JSON_OBJECT) {
            rc = wire_errf(err, WIRE_EPARSE, "checkpoint: position is not an object");
            break;
        }
        wire_position pos = {0};
        wire_json_val ids, id;
        if ((rc = get_u64(el.p, el.n, "split", &u, err)) != 0)
            break;
        pos.split = (uint32_t)u;
        if ((rc = get_u64(el.p, el.n, "flags", &u, err)) != 0)
            break;
        pos.flags = (uint32_t)u;
        if ((rc = get_member(el.p, el.n, "identity", WIRE_JSON_ARRAY, &ids, err)) != 0)
            break;
        for (size_t k = 0; k < 2 && rc == 0; k++) {
            if (!wire_json_index(ids.p, ids.n, k, &id))
                rc = wire_errf(err, WIRE_EPARSE, "checkpoint: identity needs 2 values");
            else
                rc = get_hex(&id, &pos.identity[k], err);
        }
        if (rc != 0)
            break;
        if ((rc = get_u64(el.p, el.n, "epoch_ms", &u, err)) != 0)
            break;
        pos.epoch_ms = (int64_t)u;
        if ((rc = get_u64(el.p, el.n, "offset", &pos.offset, err)) != 0)
            break;
        *out = wire_xrealloc(*out, (*nout + 1) * sizeof(**out));
        (*out)[(*nout)++] = pos;
    }
    return rc;
}

int wire_positions_parse(const char *json, size_t n, wire_position **pos, size_t *npos,
                         wire_err *err)
{
    *pos = NULL;
    *npos = 0;
    wire_json_val arr = {WIRE_JSON_ARRAY, json, n};
    int rc = wire_json_validate(json, n, err) != 0 ? WIRE_EPARSE
             : n == 0 || json[0] != '[' ? wire_errf(err, WIRE_EPARSE, "positions: not an array")
                                        : positions_parse(&arr, pos, npos, err);
    if (rc != 0) {
        free(*pos);
        *pos = NULL;
        *npos = 0;
    }
    return rc;
}

int wire_checkpoint_decode(const char *p, size_t n, wire_checkpoint *cp, wire_err *err)
{
    wire_checkpoint_init(cp);
    if (wire_json_validate_object(p, n, err) != 0)
        return WIRE_EPARSE;
    wire_json_val v, arr, el;
    uint64_t u;
    int rc = get_u64(p, n, "id", &cp->id, err);
    if (rc == 0)
        rc = get_u64(p, n, "version", &cp->version, err);
    if (rc == 0)
        rc = get_member(p, n, "spec_hash", WIRE_JSON_STRING, &v, err);
    if (rc == 0)
        rc = get_hex(&v, &cp->spec_hash, err);
    if (rc == 0 && (rc = get_u64(p, n, "time_ms", &u, err)) == 0)
        cp->time_ms = (int64_t)u;
    if (rc == 0)
        rc = get_member(p, n, "positions", WIRE_JSON_ARRAY, &arr, err);
    if (rc == 0)
        rc = positions_parse(&arr, &cp->pos, &cp->npos, err);
    if (rc == 0)
        rc = get_member(p, n, "sinks", WIRE_JSON_ARRAY, &arr, err);
    for (size_t i = 0; rc == 0 && wire_json_index(arr.p, arr.n, i, &el); i++) {
        wire_json_val name, type, state;
        if (el.kind != WIRE_JSON_OBJECT ||
            (rc = get_member(el.p, el.n, "name", WIRE_JSON_STRING, &name, err)) != 0 ||
            (rc = get_member(el.p, el.n, "type", WIRE_JSON_STRING, &type, err)) != 0) {
            rc = rc ? rc : wire_errf(err, WIRE_EPARSE, "checkpoint: sink is not an object");
            break;
        }
        if (!wire_json_get(el.p, el.n, "state", 5, &state)) {
            rc = wire_errf(err, WIRE_EPARSE, "checkpoint: sink without state");
            break;
        }
        char *nm = dup_string(&name), *ty = dup_string(&type);
        char *js = wire_xstrndup(state.p, state.n);
        wire_checkpoint_add_sink(cp, nm, ty, js);
        free(nm);
        free(ty);
        free(js);
    }
    if (rc != 0)
        wire_checkpoint_clear(cp);
    return rc;
}

/* ---- the local store ---- */

typedef struct local_store {
    wire_checkpoint_store base;
    char *dir; /* DATA_DIR/checkpoints */
} local_store;

static void pipeline_dir(local_store *ls, const char *pipeline, char *out, size_t n)
{
    snprintf(out, n, "%s/%s", ls->dir, pipeline);
}

/* Checkpoint ids present, newest first. */
static size_t list_ids(const char *dir, uint64_t *ids, size_t max)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        unsigned long long id;
        char tail[8];
        if (sscanf(e->d_name, "cp-%20llu.%7s", &id, tail) == 2 && strcmp(tail, "ckpt") == 0) {
            if (n < max)
                ids[n++] = id;
        }
    }
    closedir(d);
    /* sort descending (few entries) */
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && ids[j] > ids[j - 1]; j--) {
            uint64_t t = ids[j];
            ids[j] = ids[j - 1];
            ids[j - 1] = t;
        }
    return n;
}

static int local_save(wire_checkpoint_store *s, const char *pipeline, const wire_checkpoint *cp,
                      wire_err *err)
{
    local_store *ls = (local_store *)s;
    char dir[4096], path[4200];
    pipeline_dir(ls, pipeline, dir, sizeof(dir));
    int rc = wire_io_mkdir_p(dir, err);
    if (rc != 0)
        return rc;
    wire_buf payload, file;
    wire_buf_init(&payload);
    wire_buf_init(&file);
    wire_checkpoint_encode(cp, pipeline, &payload);
    uLong crc = crc32(0L, (const Bytef *)payload.p, (uInt)payload.len);
    wire_buf_printf(&file, "WIRECKP %d %zu %08lx\n", CKPT_FORMAT, payload.len, crc);
    wire_buf_append(&file, payload.p, payload.len);
    snprintf(path, sizeof(path), "%s/cp-%020" PRIu64 ".ckpt", dir, cp->id);
    rc = wire_io_write_file_atomic(path, file.p, file.len, err);
    wire_buf_free(&payload);
    wire_buf_free(&file);
    if (rc != 0)
        return rc;
    /* keep the newest few: an older one is the fallback if a newer is torn */
    uint64_t ids[64];
    size_t n = list_ids(dir, ids, 64);
    for (size_t i = CKPT_KEEP; i < n; i++) {
        snprintf(path, sizeof(path), "%s/cp-%020" PRIu64 ".ckpt", dir, ids[i]);
        unlink(path);
    }
    return 0;
}

static int read_one(const char *path, wire_checkpoint *out, wire_err *err)
{
    char *data;
    size_t len;
    int rc = wire_io_read_file(path, &data, &len, err);
    if (rc != 0)
        return rc;
    int format = 0;
    size_t plen = 0;
    unsigned long crc = 0;
    int hdr = 0;
    char *nl = memchr(data, '\n', len);
    if (!nl || sscanf(data, "WIRECKP %d %zu %8lx%n", &format, &plen, &crc, &hdr) != 3 ||
        data + hdr != nl) {
        rc = wire_errf(err, WIRE_EPARSE, "bad header");
    } else if (format != CKPT_FORMAT) {
        rc = wire_errf(err, WIRE_EPARSE, "unknown format %d", format);
    } else if ((size_t)(data + len - (nl + 1)) != plen) {
        rc = wire_errf(err, WIRE_EPARSE, "torn: %zu payload bytes of %zu",
                       (size_t)(data + len - (nl + 1)), plen);
    } else if (crc32(0L, (const Bytef *)(nl + 1), (uInt)plen) != crc) {
        rc = wire_errf(err, WIRE_EPARSE, "checksum mismatch");
    } else {
        rc = wire_checkpoint_decode(nl + 1, plen, out, err);
    }
    free(data);
    return rc;
}

static int local_load(wire_checkpoint_store *s, const char *pipeline, wire_checkpoint *out,
                      wire_err *err)
{
    local_store *ls = (local_store *)s;
    char dir[4096], path[4200];
    pipeline_dir(ls, pipeline, dir, sizeof(dir));
    uint64_t ids[64];
    size_t n = list_ids(dir, ids, 64);
    if (n == 0)
        return wire_errf(err, WIRE_ENOTFOUND, "no checkpoint for pipeline %s", pipeline);
    for (size_t i = 0; i < n; i++) {
        snprintf(path, sizeof(path), "%s/cp-%020" PRIu64 ".ckpt", dir, ids[i]);
        wire_err e;
        wire_err_clear(&e);
        if (read_one(path, out, &e) == 0) {
            if (i > 0)
                wire_warn("pipeline %s: using checkpoint %" PRIu64
                          " (the newer one%s could not be used)",
                          pipeline, ids[i], i > 1 ? "s" : "");
            return 0;
        }
        wire_warn("pipeline %s: checkpoint %s is unusable: %s", pipeline, path, e.msg);
    }
    return wire_errf(err, WIRE_EPARSE,
                     "pipeline %s: %zu checkpoint file(s) in %s and none is valid; refusing to "
                     "restart from zero (move the directory away to start over)",
                     pipeline, n, dir);
}

static int local_remove(wire_checkpoint_store *s, const char *pipeline, wire_err *err)
{
    local_store *ls = (local_store *)s;
    char dir[4096], path[4200];
    pipeline_dir(ls, pipeline, dir, sizeof(dir));
    uint64_t ids[64];
    size_t n = list_ids(dir, ids, 64);
    for (size_t i = 0; i < n; i++) {
        snprintf(path, sizeof(path), "%s/cp-%020" PRIu64 ".ckpt", dir, ids[i]);
        unlink(path);
    }
    rmdir(dir);
    return 0;
}

static void local_free(wire_checkpoint_store *s)
{
    local_store *ls = (local_store *)s;
    free(ls->dir);
    free(ls);
}

wire_checkpoint_store *wire_checkpoint_store_local(const char *data_dir)
{
    local_store *ls = wire_xcalloc(1, sizeof(*ls));
    ls->base.save = local_save;
    ls->base.load = local_load;
    ls->base.remove = local_remove;
    ls->base.free = local_free;
    wire_buf b;
    wire_buf_init(&b);
    wire_buf_printf(&b, "%s/checkpoints", data_dir);
    ls->dir = b.p;
    return &ls->base;
}
