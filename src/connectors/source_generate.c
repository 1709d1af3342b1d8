/*
 * source_generate.c — the `generate` source: events from a JSON template,
 * a fixed count or unbounded, optionally rate limited.
 *
 * Template placeholders: {{seq}} (0, 1, 2, ...), {{now_ms}}, {{rand_int A B}}
 * and {{pick a b c}}. Inside a JSON string a pick's words are inserted
 * escaped; outside one they must be JSON values. "Random" choices are a hash
 * of the sequence number, so a replay from a checkpoint regenerates the same
 * events (only now_ms differs). The position is the next sequence number.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "connectors/connectors.h"
#include "core/json.h"

enum { SEG_TEXT, SEG_SEQ, SEG_NOW, SEG_RAND, SEG_PICK };

typedef struct segment {
    int kind;
    char *text; /* SEG_TEXT */
    size_t len;
    int64_t lo, hi; /* SEG_RAND */
    char **words;   /* SEG_PICK, already escaped when inside a string */
    size_t *wlen;
    size_t nwords;
} segment;

typedef struct generate_config {
    int64_t count;
    int64_t rate;
    char *template;
    int64_t batch;
} generate_config;

static const wire_option generate_options[] = {
    {"count", WIRE_OPT_INT, "0", 0, offsetof(generate_config, count), NULL,
     "Events to generate, then finish; 0 = unbounded."},
    {"rate", WIRE_OPT_INT, "0", 0, offsetof(generate_config, rate), NULL,
     "Events per second; 0 = as fast as the pipeline takes them."},
    {"template", WIRE_OPT_STRING, NULL, 0, offsetof(generate_config, template), NULL,
     "JSON object with {{seq}}, {{now_ms}}, {{rand_int A B}}, {{pick a b c}}; a log-like "
     "default."},
    {"batch", WIRE_OPT_INT, "1024", 0, offsetof(generate_config, batch), NULL, "Events per batch."},
    {NULL},
};

typedef struct generate_source {
    const generate_config *c;
    segment *seg;
    size_t nseg;
    size_t max_len; /* upper bound of one rendered event */
    bool raw_picks; /* a pick outside a string: renderings must be validated */
} generate_source;

#define DEFAULT_TEMPLATE                                                                           \
    "{\"seq\":{{seq}},\"ts\":{{now_ms}},\"level\":\"{{pick info info info warn error}}\","         \
    "\"host\":\"web-{{rand_int 1 20}}\",\"latency_ms\":{{rand_int 1 900}},\"msg\":\"request "      \
    "served\"}"

static void free_segments(generate_source *s)
{
    for (size_t i = 0; i < s->nseg; i++) {
        free(s->seg[i].text);
        for (size_t w = 0; w < s->seg[i].nwords; w++)
            free(s->seg[i].words[w]);
        free(s->seg[i].words);
        free(s->seg[i].wlen);
    }
    free(s->seg);
    s->seg = NULL;
    s->nseg = 0;
}

static segment *add_segment(generate_source *s, int kind)
{
    s->seg = wire_xrealloc(s->seg, (s->nseg + 1) * sizeof(*s->seg));
    segment *g = &s->seg[s->nseg++];
    memset(g, 0, sizeof(*g));
    g->kind = kind;
    return g;
}

/* Is position `upto` of the template inside a JSON string? */
static bool in_string(const char *t, size_t upto)
{
    bool in = false;
    for (size_t i = 0; i < upto; i++) {
        if (in && t[i] == '\\') {
            i++;
            continue;
        }
        if (t[i] == '"')
            in = !in;
    }
    return in;
}

static int parse_placeholder(generate_source *s, const char *body, size_t n, bool quoted,
                             wire_err *err)
{
    char *tmp = wire_xstrndup(body, n);
    char *save = NULL;
    char *name = strtok_r(tmp, " \t", &save);
    int rc = 0;
    if (!name) {
        rc = wire_errf(err, WIRE_EINVAL, "template: empty placeholder {{}}");
    } else if (strcmp(name, "seq") == 0) {
        add_segment(s, SEG_SEQ);
        s->max_len += 20;
    } else if (strcmp(name, "now_ms") == 0) {
        add_segment(s, SEG_NOW);
        s->max_len += 20;
    } else if (strcmp(name, "rand_int") == 0) {
        char *a = strtok_r(NULL, " \t", &save), *b = strtok_r(NULL, " \t", &save);
        char *end1 = NULL, *end2 = NULL;
        long long lo = a ? strtoll(a, &end1, 10) : 0, hi = b ? strtoll(b, &end2, 10) : 0;
        if (!a || !b || *end1 || *end2 || strtok_r(NULL, " \t", &save) || lo > hi) {
            rc = wire_errf(err, WIRE_EINVAL, "template: use {{rand_int A B}} with integers A <= B");
        } else {
            segment *g = add_segment(s, SEG_RAND);
            g->lo = lo;
            g->hi = hi;
            s->max_len += 21;
        }
    } else if (strcmp(name, "pick") == 0) {
        segment *g = add_segment(s, SEG_PICK);
        size_t longest = 0;
        for (char *w; (w = strtok_r(NULL, " \t", &save)) != NULL;) {
            g->words = wire_xrealloc(g->words, (g->nwords + 1) * sizeof(char *));
            g->wlen = wire_xrealloc(g->wlen, (g->nwords + 1) * sizeof(size_t));
            if (quoted) {
                /* escape for a JSON string body: drop the quotes the writer adds */
                wire_buf b;
                wire_buf_init(&b);
                wire_json_write_str(&b, w, strlen(w));
                g->words[g->nwords] = wire_xstrndup(b.p + 1, b.len - 2);
                g->wlen[g->nwords] = b.len - 2;
                wire_buf_free(&b);
            } else {
                s->raw_picks = true;
                if (wire_json_validate(w, strlen(w), NULL) != 0)
                    rc = wire_errf(err, WIRE_EINVAL,
                                   "template: pick word '%s' outside a string must be a JSON "
                                   "value (quote the placeholder?)",
                                   w);
                g->words[g->nwords] = wire_xstrdup(w);
                g->wlen[g->nwords] = strlen(w);
            }
            if (g->wlen[g->nwords] > longest)
                longest = g->wlen[g->nwords];
            g->nwords++;
        }
        if (g->nwords == 0 && rc == 0)
            rc = wire_errf(err, WIRE_EINVAL, "template: {{pick}} needs at least one word");
        s->max_len += longest;
    } else {
        rc = wire_errf(err, WIRE_EINVAL,
                       "template: unknown placeholder {{%s}} (use seq, now_ms, rand_int, pick)",
                       name);
    }
    free(tmp);
    return rc;
}

static int compile_template(generate_source *s, const char *t, wire_err *err)
{
    size_t n = strlen(t), i = 0, text_start = 0;
    while (i < n) {
        if (t[i] == '{' && i + 1 < n && t[i + 1] == '{') {
            const char *close = strstr(t + i + 2, "}}");
            if (!close)
                return wire_errf(err, WIRE_EINVAL, "template: '{{' at %zu is never closed", i);
            if (i > text_start) {
                segment *g = add_segment(s, SEG_TEXT);
                g->text = wire_xstrndup(t + text_start, i - text_start);
                g->len = i - text_start;
                s->max_len += g->len;
            }
            int rc = parse_placeholder(s, t + i + 2, (size_t)(close - (t + i + 2)), in_string(t, i),
                                       err);
            if (rc != 0)
                return rc;
            i = (size_t)(close - t) + 2;
            text_start = i;
        } else {
            i++;
        }
    }
    if (n > text_start) {
        segment *g = add_segment(s, SEG_TEXT);
        g->text = wire_xstrndup(t + text_start, n - text_start);
        g->len = n - text_start;
        s->max_len += g->len;
    }
    return 0;
}

static inline uint64_t mix(uint64_t seq, size_t segno)
{
    uint64_t x = seq * 0x9E3779B97F4A7C15ULL + segno * 0xBF58476D1CE4E5B9ULL + 1;
    x ^= x >> 31;
    x *= 0x94D049BB133111EBULL;
    x ^= x >> 29;
    return x;
}

static inline char *put_i64(char *p, int64_t v)
{
    char tmp[24];
    int n = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *p++ = '-';
    while (n)
        *p++ = tmp[--n];
    return p;
}

static size_t render(const generate_source *s, uint64_t seq, int64_t now, char *out)
{
    char *p = out;
    for (size_t i = 0; i < s->nseg; i++) {
        const segment *g = &s->seg[i];
        switch (g->kind) {
        case SEG_TEXT:
            memcpy(p, g->text, g->len);
            p += g->len;
            break;
        case SEG_SEQ: p = put_i64(p, (int64_t)seq); break;
        case SEG_NOW: p = put_i64(p, now); break;
        case SEG_RAND: {
            uint64_t span = (uint64_t)(g->hi - g->lo) + 1;
            uint64_t r = span ? mix(seq, i) % span : mix(seq, i);
            p = put_i64(p, g->lo + (int64_t)r);
            break;
        }
        case SEG_PICK: {
            size_t w = (size_t)(mix(seq, i) % g->nwords);
            memcpy(p, g->words[w], g->wlen[w]);
            p += g->wlen[w];
            break;
        }
        }
    }
    return (size_t)(p - out);
}

static int generate_create(void **self, const void *config, const wire_component_env *env,
                           wire_err *err)
{
    (void)env;
    const generate_config *c = config;
    generate_source *s = wire_xcalloc(1, sizeof(*s));
    s->c = c;
    int rc = compile_template(s, c->template && *c->template ? c->template : DEFAULT_TEMPLATE, err);
    if (rc == 0) {
        /* the template must render a JSON object */
        char *buf = wire_xmalloc(s->max_len + 1);
        size_t n = render(s, 0, 0, buf);
        wire_err verr;
        if (wire_json_validate_object(buf, n, &verr) != 0)
            rc = wire_errf(err, WIRE_EINVAL, "template does not render a JSON object: %s: %.*s",
                           verr.msg, (int)(n > 200 ? 200 : n), buf);
        free(buf);
    }
    if (rc != 0) {
        free_segments(s);
        free(s);
        return rc;
    }
    *self = s;
    return 0;
}

static void generate_destroy(void *self)
{
    generate_source *s = self;
    free_segments(s);
    free(s);
}

static int generate_run(void *self, wire_source_ctx *ctx, wire_err *err)
{
    generate_source *s = self;
    const generate_config *c = s->c;
    uint64_t seq = 0;
    const wire_position *resume = wire_source_resume(ctx, 0);
    int64_t epoch = wire_now_ms();
    if (resume) {
        seq = resume->offset;
        epoch = resume->epoch_ms;
    }
    uint64_t count = c->count > 0 ? (uint64_t)c->count : UINT64_MAX;
    uint64_t per_batch = wire_source_pace_batch(c->batch, c->rate);
    int64_t start_ns = wire_mono_ns();
    uint64_t produced = 0;
    while (seq < count) {
        if (wire_source_stopping(ctx))
            return WIRE_ESTOPPED;
        wire_source_pace(ctx, start_ns, produced, c->rate); /* the batch's first event is due */
        wire_batch *b = wire_source_batch(ctx);
        uint64_t n = count - seq < per_batch ? count - seq : per_batch;
        int64_t now = b->ingest_ms;
        for (uint64_t k = 0; k < n; k++, seq++) {
            char *dst = wire_arena_alloc_unaligned(&b->arena, s->max_len);
            size_t len = render(s, seq, now, dst);
            wire_event *e = wire_batch_push(b, dst, (uint32_t)len);
            e->offset = seq;
            e->time_ms = now;
        }
        produced += n;
        wire_position pos = {0};
        pos.epoch_ms = epoch;
        pos.offset = seq;
        wire_batch_set_position(b, &pos);
        /* a rendering is a JSON object (checked at create) when placeholders
           insert only numbers and escaped words; raw picks are checked */
        if (wire_source_emit(ctx, b, !s->raw_picks) != 0)
            return WIRE_ESTOPPED;
    }
    return 0;
}

const wire_source_def wire_source_generate = {
    .base = {WIRE_KIND_SOURCE, "generate",
             "Generate events from a JSON template (count or unbounded, rate limited)",
             generate_options, sizeof(generate_config), WIRE_CAP_BOUNDED | WIRE_CAP_REPLAYABLE,
             generate_create, generate_destroy},
    .run = generate_run,
};
