/*
 * json_pretty.c — re-indent valid compact JSON for people (?pretty on the
 * HTTP API). Works on the text; strings are copied untouched.
 */
#include "core/json.h"

void wire_json_pretty(const char *p, size_t n, wire_buf *out)
{
    int depth = 0;
    bool in_str = false;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (in_str) {
            wire_buf_putc(out, c);
            if (c == '\\' && i + 1 < n)
                wire_buf_putc(out, p[++i]);
            else if (c == '"')
                in_str = false;
            continue;
        }
        switch (c) {
        case '"':
            in_str = true;
            wire_buf_putc(out, c);
            break;
        case '{':
        case '[':
            /* keep empty containers on one line */
            if (i + 1 < n && (p[i + 1] == '}' || p[i + 1] == ']')) {
                wire_buf_putc(out, c);
                wire_buf_putc(out, p[++i]);
                break;
            }
            wire_buf_putc(out, c);
            depth++;
            wire_buf_putc(out, '\n');
            for (int d = 0; d < depth; d++)
                wire_buf_append(out, "  ", 2);
            break;
        case '}':
        case ']':
            depth--;
            wire_buf_putc(out, '\n');
            for (int d = 0; d < depth; d++)
                wire_buf_append(out, "  ", 2);
            wire_buf_putc(out, c);
            break;
        case ',':
            wire_buf_putc(out, ',');
            wire_buf_putc(out, '\n');
            for (int d = 0; d < depth; d++)
                wire_buf_append(out, "  ", 2);
            break;
        case ':': wire_buf_append(out, ": ", 2); break;
        case ' ':
        case '\t':
        case '\n':
        case '\r': break;
        default: wire_buf_putc(out, c);
        }
    }
    wire_buf_putc(out, '\n');
}
