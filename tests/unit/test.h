/*
 * test.h — the unit-test harness: TEST(name) functions listed in main via
 * RUN(name); CHECK*() record failures and keep going. Each binary ends with
 * "N passed, N failed" (counted per TEST) and exits non-zero on failure.
 */
#ifndef WIRE_TEST_H
#define WIRE_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_failed_checks;
static int test_pass, test_fail;
static const char *test_current;

#define TEST(name) static void name(void)

#define CHECK(cond)                                                                            \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            fprintf(stderr, "%s:%d: %s: CHECK(%s) failed\n", __FILE__, __LINE__, test_current, \
                    #cond);                                                                    \
            test_failed_checks++;                                                              \
        }                                                                                      \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                                   \
    do {                                                                                     \
        long long a_ = (long long)(a), b_ = (long long)(b);                                  \
        if (a_ != b_) {                                                                      \
            fprintf(stderr, "%s:%d: %s: %s == %lld, expected %s == %lld\n", __FILE__,        \
                    __LINE__, test_current, #a, a_, #b, b_);                                 \
            test_failed_checks++;                                                            \
        }                                                                                    \
    } while (0)

#define CHECK_EQ_STR(a, b)                                                                   \
    do {                                                                                     \
        const char *a_ = (a), *b_ = (b);                                                     \
        if (!a_ || !b_ || strcmp(a_, b_) != 0) {                                             \
            fprintf(stderr, "%s:%d: %s: %s == \"%s\", expected \"%s\"\n", __FILE__, __LINE__, \
                    test_current, #a, a_ ? a_ : "(null)", b_ ? b_ : "(null)");               \
            test_failed_checks++;                                                            \
        }                                                                                    \
    } while (0)

#define RUN(name)                                                  \
    do {                                                           \
        test_current = #name;                                      \
        int before_ = test_failed_checks;                          \
        name();                                                    \
        if (test_failed_checks == before_) {                       \
            test_pass++;                                           \
        } else {                                                   \
            test_fail++;                                           \
            fprintf(stderr, "FAIL %s\n", #name);                   \
        }                                                          \
    } while (0)

#define TEST_MAIN_END()                                      \
    do {                                                     \
        printf("%d passed, %d failed\n", test_pass, test_fail); \
        return test_fail ? 1 : 0;                            \
    } while (0)

#endif
