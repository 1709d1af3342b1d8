/*
 * legacy.h — the original Go Wire's connector API (`POST /connector/NAME`)
 * mapped onto Wire's pipeline document, so old clients keep working.
 */
#ifndef WIRE_LEGACY_H
#define WIRE_LEGACY_H

#include "core/core.h"

/*
 * Translate a legacy connector body
 *   {"source":{"name","type","key","config":{...}},"sink":{...}}
 * into a pipeline document (JSON) named `name`, appended to `out`:
 *   {"name":NAME,"source":{"type","name","config"},"sink":{...}}
 * Config keys are renamed where Wire's differ (file_path -> path); the rest
 * pass through, and so do string values (the option parser accepts quoted
 * numbers, booleans and durations). `key` is accepted and dropped; unknown
 * keys are ignored. Types are not checked here: the caller validates the
 * document with wire_spec_load_mem, which names an unknown type.
 * Returns 0, or WIRE_EINVAL with a message in `err` (out is then unchanged).
 */
int wire_legacy_pipeline(const char *name, const char *body, size_t n, wire_buf *out,
                         wire_err *err);

#endif
