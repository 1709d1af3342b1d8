/*
 * commands.c — the byte encoding of the control plane: little-endian
 * integers and length-prefixed strings with bounds-checked readers, and the
 * Raft entry format (a versioned batch of versioned commands). The FSM
 * (fsm.c) interprets commands; this file only moves bytes.
 */
#include <string.h>

#include "cluster/internal.h"

void wire_put_u8(wire_buf *b, uint8_t v)
{
    wire_buf_append(b, &v, 1);
}

/* The low `n` bytes of v, little-endian. */
static void put_le(wire_buf *b, uint64_t v, int n)
{
    uint8_t t[8];
    for (int i = 0; i < n; i++)
        t[i] = (uint8_t)(v >> (8 * i));
    wire_buf_append(b, t, (size_t)n);
}

void wire_put_u16(wire_buf *b, uint16_t v)
{
    put_le(b, v, 2);
}

void wire_put_u32(wire_buf *b, uint32_t v)
{
    put_le(b, v, 4);
}

void wire_put_u64(wire_buf *b, uint64_t v)
{
    put_le(b, v, 8);
}

void wire_put_str(wire_buf *b, const char *s, size_t n)
{
    wire_put_u32(b, (uint32_t)n);
    if (n)
        wire_buf_append(b, s, n);
}

static bool need(wire_rd *r, size_t n)
{
    if (r->bad || (size_t)(r->end - r->p) < n) {
        r->bad = true;
        return false;
    }
    return true;
}

uint8_t wire_get_u8(wire_rd *r)
{
    if (!need(r, 1))
        return 0;
    return *r->p++;
}

/* n bytes, little-endian; 0 (and r->bad) past the end. */
static uint64_t get_le(wire_rd *r, int n)
{
    if (!need(r, (size_t)n))
        return 0;
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v |= (uint64_t)r->p[i] << (8 * i);
    r->p += n;
    return v;
}

uint16_t wire_get_u16(wire_rd *r)
{
    return (uint16_t)get_le(r, 2);
}

uint32_t wire_get_u32(wire_rd *r)
{
    return (uint32_t)get_le(r, 4);
}

uint64_t wire_get_u64(wire_rd *r)
{
    return get_le(r, 8);
}

const char *wire_get_str(wire_rd *r, size_t *n)
{
    uint32_t len = wire_get_u32(r);
    if (!need(r, len)) {
        *n = 0;
        return "";
    }
    const char *s = (const char *)r->p;
    r->p += len;
    *n = len;
    return s;
}

uint64_t wire_node_raft_id(const char *id)
{
    uint64_t h = wire_hash64(id, strlen(id), 0x5769726552616674ull) & 0x7fffffffffffffffull;
    return h ? h : 1;
}

/* The payload layout of each command type, version 1. */
void wire_cmd_encode(wire_buf *b, const wire_cmd *c)
{
    size_t start = b->len;
    wire_put_u8(b, c->type);
    wire_put_u8(b, c->version ? c->version : 1);
    wire_put_u16(b, 0);
    wire_put_u32(b, 0); /* payload length, patched below */
    size_t pstart = b->len;
    switch (c->type) {
    case WIRE_CMD_KV_SET:
        wire_put_str(b, c->a, c->alen);
        wire_put_str(b, c->b, c->blen);
        break;
    case WIRE_CMD_KV_DEL:
    case WIRE_CMD_NODE_DEL:
    case WIRE_CMD_PIPELINE_DEL: wire_put_str(b, c->a, c->alen); break;
    case WIRE_CMD_NODE_SET:
        wire_put_str(b, c->a, c->alen);
        wire_put_str(b, c->b, c->blen);
        wire_put_str(b, c->c, c->clen);
        wire_put_u64(b, c->u2);
        break;
    case WIRE_CMD_PIPELINE_PUT:
        wire_put_str(b, c->a, c->alen);
        wire_put_str(b, c->b, c->blen);
        wire_put_u64(b, c->u1);
        wire_put_str(b, c->c, c->clen);
        wire_put_u64(b, c->u2); /* added later: absent in older entries (0) */
        wire_put_u64(b, c->u3); /* parallelism, added later still (absent: 1) */
        break;
    case WIRE_CMD_PIPELINE_STATE:
        wire_put_str(b, c->a, c->alen);
        wire_put_u64(b, c->u1);
        wire_put_u64(b, c->u3);
        wire_put_u64(b, c->u2);
        wire_put_str(b, c->c, c->clen);
        break;
    case WIRE_CMD_PIPELINE_CTL:
    case WIRE_CMD_NODE_DRAIN:
        wire_put_str(b, c->a, c->alen);
        wire_put_u64(b, c->u1);
        break;
    case WIRE_CMD_ASSIGN:
        wire_put_str(b, c->a, c->alen);
        wire_put_str(b, c->b, c->blen);
        wire_put_u64(b, c->u1);
        break;
    case WIRE_CMD_CHECKPOINT:
        wire_put_str(b, c->a, c->alen);
        wire_put_u64(b, c->u1);
        wire_put_str(b, c->b, c->blen);
        wire_put_str(b, c->c, c->clen);
        break;
    case WIRE_CMD_NODE_SEEN:
        wire_put_str(b, c->a, c->alen);
        wire_put_u64(b, c->u1);
        break;
    case WIRE_CMD_SESSION:
        wire_put_str(b, c->a, c->alen);
        wire_put_u64(b, c->u1);
        wire_put_u64(b, c->u2);
        wire_put_u64(b, c->u3);
        break;
    case WIRE_CMD_TOKEN_PUT:
        wire_put_str(b, c->a, c->alen);
        wire_put_str(b, c->b, c->blen);
        wire_put_str(b, c->c, c->clen);
        wire_put_u64(b, c->u1);
        wire_put_u64(b, c->u2);
        break;
    case WIRE_CMD_TOKEN_DEL: wire_put_str(b, c->a, c->alen); break;
    default: break;
    }
    uint32_t plen = (uint32_t)(b->len - pstart);
    for (int i = 0; i < 4; i++)
        b->p[start + 4 + i] = (char)(plen >> (8 * i));
}

void wire_entry_begin(wire_buf *b, uint32_t ncmds, uint64_t term)
{
    wire_buf_reset(b);
    wire_put_u8(b, WIRE_ENTRY_MAGIC);
    wire_put_u8(b, WIRE_ENTRY_VERSION);
    wire_put_u16(b, 0);
    wire_put_u32(b, ncmds);
    wire_put_u64(b, term);
}

void wire_entry_set_count(wire_buf *b, uint32_t ncmds)
{
    for (int i = 0; i < 4; i++)
        b->p[4 + i] = (char)(ncmds >> (8 * i));
}

int wire_entry_open(wire_entry_iter *it, const void *p, size_t n, wire_err *err)
{
    it->r.p = p;
    it->r.end = (const uint8_t *)p + n;
    it->r.bad = false;
    uint8_t magic = wire_get_u8(&it->r), ver = wire_get_u8(&it->r);
    (void)wire_get_u16(&it->r);
    it->left = wire_get_u32(&it->r);
    it->term = wire_get_u64(&it->r);
    if (it->r.bad || magic != WIRE_ENTRY_MAGIC)
        return wire_errf(err, WIRE_EPARSE, "not a Wire entry (%zu bytes)", n);
    if (ver != WIRE_ENTRY_VERSION)
        return wire_errf(err, WIRE_EPARSE, "entry format version %u unknown (this binary: %u)", ver,
                         WIRE_ENTRY_VERSION);
    /* every command has at least its header: a bigger count is a lie (found by fuzzing) */
    if (it->left > (size_t)(it->r.end - it->r.p) / WIRE_CMD_HEADER)
        return wire_errf(err, WIRE_EPARSE, "entry claims %u commands in %zu bytes", it->left,
                         (size_t)(it->r.end - it->r.p));
    return 0;
}

int wire_entry_next(wire_entry_iter *it, wire_cmd *c, wire_err *err)
{
    if (it->left == 0)
        return 0;
    it->left--;
    memset(c, 0, sizeof(*c));
    c->type = wire_get_u8(&it->r);
    c->version = wire_get_u8(&it->r);
    (void)wire_get_u16(&it->r);
    uint32_t plen = wire_get_u32(&it->r);
    if (it->r.bad || (size_t)(it->r.end - it->r.p) < plen)
        return wire_errf(err, WIRE_EPARSE, "truncated command");
    wire_rd r = {it->r.p, it->r.p + plen, false};
    it->r.p += plen;
    if (c->version != 1)
        return 1; /* unknown version: the FSM skips it */
    switch (c->type) {
    case WIRE_CMD_KV_SET:
        c->a = wire_get_str(&r, &c->alen);
        c->b = wire_get_str(&r, &c->blen);
        break;
    case WIRE_CMD_KV_DEL:
    case WIRE_CMD_NODE_DEL:
    case WIRE_CMD_PIPELINE_DEL: c->a = wire_get_str(&r, &c->alen); break;
    case WIRE_CMD_NODE_SET:
        c->a = wire_get_str(&r, &c->alen);
        c->b = wire_get_str(&r, &c->blen);
        c->c = wire_get_str(&r, &c->clen);
        c->u2 = wire_get_u64(&r);
        break;
    case WIRE_CMD_PIPELINE_PUT:
        c->a = wire_get_str(&r, &c->alen);
        c->b = wire_get_str(&r, &c->blen);
        c->u1 = wire_get_u64(&r);
        c->c = wire_get_str(&r, &c->clen);
        if (r.p < r.end) /* entries written before the pipeline cap have no u2 */
            c->u2 = wire_get_u64(&r);
        if (r.p < r.end) /* nor those before parallelism a u3 */
            c->u3 = wire_get_u64(&r);
        break;
    case WIRE_CMD_PIPELINE_STATE:
        c->a = wire_get_str(&r, &c->alen);
        c->u1 = wire_get_u64(&r);
        c->u3 = wire_get_u64(&r);
        c->u2 = wire_get_u64(&r);
        c->c = wire_get_str(&r, &c->clen);
        break;
    case WIRE_CMD_PIPELINE_CTL:
    case WIRE_CMD_NODE_DRAIN:
        c->a = wire_get_str(&r, &c->alen);
        c->u1 = wire_get_u64(&r);
        break;
    case WIRE_CMD_ASSIGN:
        c->a = wire_get_str(&r, &c->alen);
        c->b = wire_get_str(&r, &c->blen);
        c->u1 = wire_get_u64(&r);
        break;
    case WIRE_CMD_CHECKPOINT:
        c->a = wire_get_str(&r, &c->alen);
        c->u1 = wire_get_u64(&r);
        c->b = wire_get_str(&r, &c->blen);
        c->c = wire_get_str(&r, &c->clen);
        break;
    case WIRE_CMD_NODE_SEEN:
        c->a = wire_get_str(&r, &c->alen);
        c->u1 = wire_get_u64(&r);
        break;
    case WIRE_CMD_SESSION:
        c->a = wire_get_str(&r, &c->alen);
        c->u1 = wire_get_u64(&r);
        c->u2 = wire_get_u64(&r);
        c->u3 = wire_get_u64(&r);
        break;
    case WIRE_CMD_TOKEN_PUT:
        c->a = wire_get_str(&r, &c->alen);
        c->b = wire_get_str(&r, &c->blen);
        c->c = wire_get_str(&r, &c->clen);
        c->u1 = wire_get_u64(&r);
        c->u2 = wire_get_u64(&r);
        break;
    case WIRE_CMD_TOKEN_DEL: c->a = wire_get_str(&r, &c->alen); break;
    default: return 1; /* unknown type: the FSM skips it */
    }
    if (r.bad)
        return wire_errf(err, WIRE_EPARSE, "malformed command of type %u", c->type);
    return 1;
}
