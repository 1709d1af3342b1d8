/* test_secrets.c — secret references in pipeline options: which keys name a
 * secret, the loader keeping ${env:}/${file:} as written, the checks at
 * create (form, literals, ${file:} in the sandbox) and the resolution where
 * the pipeline runs (values in place, messages without them). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/sandbox.h"
#include "engine/engine.h"
#include "registry/registry.h"
#include "test.h"

static wire_pipeline_spec *load(const char *doc)
{
    wire_pipeline_spec *s = NULL;
    wire_diags d = {0};
    int rc = wire_spec_load_mem(&wire_default_registry, "p.yaml", doc, strlen(doc), &s, &d);
    if (rc != 0)
        wire_diags_print(&d, stderr);
    wire_diags_free(&d);
    return rc == 0 ? s : NULL;
}

static const char *header(const wire_pipeline_spec *s, const char *key);

#define DOC(headers)                                                                               \
    "name: p\nsource: {type: generate, config: {count: 1}}\n"                                      \
    "sink: {type: http, config: {url: \"http://127.0.0.1:1/\", headers: " headers "}}\n"

TEST(secret_keys)
{
    CHECK(wire_secret_key("password"));
    CHECK(wire_secret_key("sasl.password"));
    CHECK(wire_secret_key("ssl.key.password"));
    CHECK(wire_secret_key("key_pass"));
    CHECK(wire_secret_key("token"));
    CHECK(wire_secret_key("client_secret"));
    CHECK(wire_secret_key("Authorization"));
    CHECK(!wire_secret_key("path"));
    CHECK(!wire_secret_key("key"));
    CHECK(!wire_secret_key("tokens_per_second"));
    CHECK(!wire_secret_key("X-Request-Id"));
}

TEST(check_at_create)
{
    wire_diags d = {0};
    wire_pipeline_spec *s = load(DOC("{Authorization: \"Bearer literal\"}"));
    CHECK(s != NULL);
    CHECK_EQ_INT(wire_spec_check_secrets(s, NULL, false, &d), 0); /* wire validate, wire run */
    CHECK(wire_spec_check_secrets(s, NULL, true, &d) != 0);       /* a node */
    CHECK(d.n == 1 && strstr(d.v[0].msg, "option 'headers.Authorization' names a secret"));
    wire_diags_free(&d);
    wire_spec_free(s);

    s = load(DOC("{Authorization: \"${env:TOKEN_1}\", X-Key: \"${file:/etc/shadow}\"}"));
    CHECK(s != NULL); /* kept as written by the loader, not an unset variable */
    CHECK_EQ_STR(header(s, "Authorization"), "${env:TOKEN_1}");
    memset(&d, 0, sizeof(d));
    CHECK_EQ_INT(wire_spec_check_secrets(s, NULL, true, &d), 0);
    wire_err err;
    wire_err_clear(&err);
    char root[] = "/tmp/wire-secrets-XXXXXX";
    CHECK(mkdtemp(root) != NULL);
    const char *roots[] = {root};
    wire_sandbox *sb = wire_sandbox_new(roots, 1, &err);
    CHECK(wire_spec_check_secrets(s, sb, true, &d) != 0); /* ${file:} outside the roots */
    CHECK(d.n == 1 && strstr(d.v[0].msg, "outside the allowed paths"));
    wire_diags_free(&d);
    wire_spec_free(s);

    s = load(DOC("{X: \"${env:1BAD}\", Y: \"${env:}\", Z: \"${file:}\"}"));
    CHECK(s != NULL);
    memset(&d, 0, sizeof(d));
    wire_spec_check_secrets(s, NULL, false, &d);
    CHECK_EQ_INT((int)d.n, 3);
    wire_diags_free(&d);
    wire_spec_free(s);
    wire_sandbox_free(sb);
    rmdir(root);
}

static const char *header(const wire_pipeline_spec *s, const char *key)
{
    const wire_component_def *def = s->sinks[0].def;
    for (const wire_option *o = def->options; o->name; o++) {
        if (strcmp(o->name, "headers") != 0)
            continue;
        const wire_strmap *m = (const wire_strmap *)((const char *)s->sinks[0].config + o->offset);
        for (size_t i = 0; i < m->n; i++)
            if (strcmp(m->keys[i], key) == 0)
                return m->vals[i];
    }
    return NULL;
}

TEST(resolve_where_it_runs)
{
    char file[] = "/tmp/wire-secret-file-XXXXXX";
    int fd = mkstemp(file);
    CHECK(fd >= 0);
    CHECK_EQ_INT((int)write(fd, "from-file\n", 10), 10);
    close(fd);
    setenv("WIRE_UNIT_SECRET", "from-env", 1);
    char doc[600];
    snprintf(doc, sizeof(doc), DOC("{A: \"${env:WIRE_UNIT_SECRET}\", B: \"${file:%s}\", C: plain}"),
             file);
    wire_pipeline_spec *s = load(doc);
    CHECK(s != NULL);
    wire_err err;
    wire_err_clear(&err);
    CHECK_EQ_INT(wire_spec_resolve_secrets(s, NULL, &err), 0);
    CHECK_EQ_STR(header(s, "A"), "from-env");
    CHECK_EQ_STR(header(s, "B"), "from-file"); /* the trailing newline dropped */
    CHECK_EQ_STR(header(s, "C"), "plain");
    wire_spec_free(s);

    s = load(DOC("{A: \"${env:WIRE_UNIT_UNSET}\"}"));
    unsetenv("WIRE_UNIT_UNSET");
    CHECK(wire_spec_resolve_secrets(s, NULL, &err) != 0);
    CHECK(strstr(err.msg, "sink 'http': option 'headers.A': ${env:WIRE_UNIT_UNSET} is not set"));
    wire_spec_free(s);
    unlink(file);
    snprintf(doc, sizeof(doc), DOC("{B: \"${file:%s}\"}"), file);
    s = load(doc);
    CHECK(wire_spec_resolve_secrets(s, NULL, &err) != 0); /* the file is gone */
    CHECK(strstr(err.msg, "option 'headers.B'") != NULL);
    wire_spec_free(s);
}

int main(void)
{
    RUN(secret_keys);
    RUN(check_at_create);
    RUN(resolve_where_it_runs);
    TEST_MAIN_END();
}
