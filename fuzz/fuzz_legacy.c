/*
 * fuzz_legacy.c — libFuzzer target for the legacy connector mapping
 * (src/api/legacy.c).
 *
 * Any input must either be refused with WIRE_EINVAL (and `out` untouched) or
 * produce a document that is valid JSON (our scanner and cJSON agree), names
 * the pipeline, has source and sink objects with string types, and goes
 * through the YAML loader and the spec validator with the real registry
 * without crashing. The input is copied to an exact-size buffer so any
 * over-read is caught. Built and run by scripts/fuzz.sh.
 */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/legacy.h"
#include "core/config.h"
#include "core/json.h"
#include "registry/registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_component(cJSON *root, const char *what)
{
    cJSON *c = cJSON_GetObjectItemCaseSensitive(root, what);
    if (!cJSON_IsObject(c) || !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(c, "type")))
        abort();
    if (cJSON_GetObjectItemCaseSensitive(c, "key"))
        abort();
    cJSON *cfg = cJSON_GetObjectItemCaseSensitive(c, "config");
    if (cfg && (!cJSON_IsObject(cfg) || cJSON_GetObjectItemCaseSensitive(cfg, "file_path")))
        abort();
    cJSON *name = cJSON_GetObjectItemCaseSensitive(c, "name");
    if (name) {
        if (!cJSON_IsString(name))
            abort();
        size_t n = strlen(name->valuestring);
        if (n == 0 || n > 64 ||
            strspn(name->valuestring, "abcdefghijklmnopqrstuvwxyz"
                                      "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                      "0123456789_-") != n)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *t = malloc(size ? size : 1);
    memcpy(t, data, size);
    wire_buf out;
    wire_buf_init(&out);
    wire_err err;
    int rc = wire_legacy_pipeline("fz", t, size, &out, &err);
    if (rc != 0) {
        if (rc != WIRE_EINVAL || out.len != 0 || !err.msg[0])
            abort();
    } else {
        if (wire_json_validate_object(out.p, out.len, NULL) != 0)
            abort();
        cJSON *j = cJSON_ParseWithLength(out.p, out.len);
        if (!j)
            abort();
        cJSON *name = cJSON_GetObjectItemCaseSensitive(j, "name");
        if (!cJSON_IsString(name) || strcmp(name->valuestring, "fz") != 0)
            abort();
        check_component(j, "source");
        check_component(j, "sink");
        cJSON_Delete(j);
        /* The document goes on to the validator, as in the API. */
        wire_diags d = {0};
        wire_pipeline_spec *s = NULL;
        wire_spec_load_mem(&wire_default_registry, "connector", out.p, out.len, &s, &d);
        wire_spec_free(s);
        wire_diags_free(&d);
    }
    wire_buf_free(&out);
    free(t);
    return 0;
}
