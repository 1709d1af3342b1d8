/*
 * snapshot.c — the frame around a state-machine snapshot: a fixed header
 * {magic, format version, index, term, raw length, compressed length,
 * checksum} and the zstd-compressed state. Unpacking checks every field and
 * the checksum before decompressing, so a corrupt snapshot is refused with a
 * clear error instead of restoring garbage.
 */
#include <string.h>
#include <zstd.h>

#include "cluster/internal.h"

#define SNAP_ZSTD_LEVEL 1
#define SNAP_MAX_RAW (4ull << 30)

int wire_snapshot_pack(const void *raw, size_t n, uint64_t index, uint64_t term, wire_buf *out,
                       wire_err *err)
{
    size_t bound = ZSTD_compressBound(n);
    wire_buf_reset(out);
    wire_buf_reserve(out, WIRE_SNAP_HEADER + bound);
    size_t clen = ZSTD_compress(out->p + WIRE_SNAP_HEADER, bound, raw, n, SNAP_ZSTD_LEVEL);
    if (ZSTD_isError(clen))
        return wire_errf(err, WIRE_EIO, "zstd: %s", ZSTD_getErrorName(clen));
    uint64_t sum = wire_hash64(out->p + WIRE_SNAP_HEADER, clen, 0);
    wire_buf hdr;
    wire_buf_init(&hdr);
    wire_put_u32(&hdr, WIRE_SNAP_MAGIC);
    wire_put_u32(&hdr, WIRE_SNAP_VERSION);
    wire_put_u64(&hdr, index);
    wire_put_u64(&hdr, term);
    wire_put_u64(&hdr, n);
    wire_put_u64(&hdr, clen);
    wire_put_u64(&hdr, sum);
    memcpy(out->p, hdr.p, WIRE_SNAP_HEADER);
    wire_buf_free(&hdr);
    out->len = WIRE_SNAP_HEADER + clen;
    return 0;
}

int wire_snapshot_unpack(const void *p, size_t n, wire_buf *raw, uint64_t *index, uint64_t *term,
                         wire_err *err)
{
    wire_rd r = {p, (const uint8_t *)p + n, false};
    uint32_t magic = wire_get_u32(&r), ver = wire_get_u32(&r);
    *index = wire_get_u64(&r);
    *term = wire_get_u64(&r);
    uint64_t rawlen = wire_get_u64(&r), clen = wire_get_u64(&r), sum = wire_get_u64(&r);
    if (r.bad || magic != WIRE_SNAP_MAGIC)
        return wire_errf(err, WIRE_EPARSE, "not a Wire snapshot (%zu bytes)", n);
    if (ver != WIRE_SNAP_VERSION)
        return wire_errf(err, WIRE_EPARSE, "snapshot format version %u unknown (this binary: %u)",
                         ver, WIRE_SNAP_VERSION);
    /* up to 7 bytes of zero padding may follow the payload */
    if (clen > n - WIRE_SNAP_HEADER || n - WIRE_SNAP_HEADER - clen > 7 || rawlen > SNAP_MAX_RAW)
        return wire_errf(err, WIRE_EPARSE, "snapshot length mismatch (%llu in header, %zu there)",
                         (unsigned long long)clen, n - WIRE_SNAP_HEADER);
    const char *payload = (const char *)p + WIRE_SNAP_HEADER;
    if (wire_hash64(payload, clen, 0) != sum)
        return wire_errf(err, WIRE_EPARSE, "snapshot at index %llu: checksum mismatch (corrupt)",
                         (unsigned long long)*index);
    wire_buf_reset(raw);
    wire_buf_reserve(raw, rawlen + 1);
    size_t got = ZSTD_decompress(raw->p, rawlen + 1, payload, clen);
    if (ZSTD_isError(got) || got != rawlen)
        return wire_errf(err, WIRE_EPARSE, "snapshot at index %llu: zstd: %s",
                         (unsigned long long)*index,
                         ZSTD_isError(got) ? ZSTD_getErrorName(got) : "length mismatch");
    raw->len = got;
    return 0;
}
