/*
 * fuzz_json.c — libFuzzer target for the JSON scanner (src/core/json.c).
 *
 * Each input is validated; the verdict must equal the independent RFC 8259
 * reference in tests/unit/json_oracle.h, and cJSON may only disagree in its
 * documented leniencies. Valid input is walked with get/index/iter/unescape/
 * number and compared with cJSON's tree; invalid input still goes through
 * every lookup, which must stay in bounds (ASan) even on text that was never
 * validated. The input is copied to an exact-size buffer so any over-read
 * is caught. Built and run by scripts/fuzz.sh.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../tests/unit/json_oracle.h"
#include "core/json.h"
#include "engine/event_time.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *t = malloc(size ? size : 1);
    memcpy(t, data, size);

    wire_err err;
    int ours = wire_json_validate(t, size, &err) == 0;
    int reason = ref_check(t, size);
    if (ours != (reason == R_OK)) {
        fprintf(stderr, "wire says %d, RFC reference %d (reason %d) on: ", ours, reason == R_OK,
                reason);
        print_doc(t, size);
        abort();
    }
    if (!ours && (err.offset < 0 || (size_t)err.offset > size))
        abort();
    int obj = wire_json_validate_object(t, size, NULL) == 0;
    if (obj) { /* event_time extraction (engine/event_time.c) on any object: no crash, and a
                  failure always says why */
        int64_t ms;
        char why[200] = "";
        if (wire_event_time_of(t, size, "ts", &ms, why, sizeof(why)) != 0 && !why[0])
            abort();
        if (wire_event_time_of(t, size, "a.b", &ms, why, sizeof(why)) != 0 && !why[0])
            abort();
    }

    cJSON *cj = cjson_parse(t, size);
    if (!cj && ours)
        abort(); /* cJSON rejects what the RFC accepts: no such case is known */
    if (cj && !ours && !cjson_lenient_reason(reason)) {
        fprintf(stderr, "cJSON accepts, reference rejects for an unknown reason %d: ", reason);
        print_doc(t, size);
        abort();
    }
    if (ours && cj) {
        wire_json_val v;
        if (!wire_json_value(t, size, &v))
            abort();
        if (obj != (v.kind == WIRE_JSON_OBJECT))
            abort();
        diff_doc = "(fuzz input)";
        if (!tree_eq(&v, cj, 0)) {
            print_doc(t, size);
            abort();
        }
    }
    if (obj && !ours)
        abort();
    poke_lookups(t, size);
    cJSON_Delete(cj);
    free(t);
    return 0;
}
