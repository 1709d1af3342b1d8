/*
 * source_nexmark.c — the `nexmark` source: the Nexmark benchmark's stream of
 * Person, Auction and Bid events (../shared/NEXMARK.md; docs/nexmark.md),
 * with the reference generator's proportions (1:3:46), id, price and time
 * rules, and a fixed base time and seed, so that runs are reproducible.
 *
 * Every choice of event n is drawn from a PRNG seeded by (seed, n): event n
 * is the same whenever it is generated, so a replay from a checkpoint (the
 * position is the next event number) regenerates exactly what was lost.
 * Event n has id 1 + n; its time is base_time + n * 1000 / event_rate ms
 * (evenly spaced, as the reference's single generator); `rate` throttles in
 * wall-clock time, independently.
 *
 * One JSON object per event, the reference's columns:
 *   {"event_type":2,"person":null,"auction":null,
 *    "bid":{"auction":1007,"bidder":2001,"price":1420,"channel":"Google",
 *           "url":"https://www.google.com/search","dateTime":1700000000000,"extra":"..."},
 *    "dateTime":1700000000000}
 * Times are ms since the epoch (STREAMING.md §3.1: a JSON number is ms).
 */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "connectors/connectors.h"

typedef struct nexmark_config {
    int64_t count, rate, event_rate, base_time, seed, batch;
} nexmark_config;

static const wire_option nexmark_options[] = {
    {"count", WIRE_OPT_INT, "0", 0, offsetof(nexmark_config, count), NULL,
     "Events to generate, then finish; 0 = unbounded."},
    {"rate", WIRE_OPT_INT, "0", 0, offsetof(nexmark_config, rate), NULL,
     "Events per second of wall-clock time; 0 = as fast as the pipeline takes them."},
    {"event_rate", WIRE_OPT_INT, "10000", 0, offsetof(nexmark_config, event_rate), NULL,
     "Events per second of event time: event n is at base_time + n * 1000 / event_rate ms "
     "(the reference's firstEventRate)."},
    {"base_time", WIRE_OPT_INT, "1700000000000", 0, offsetof(nexmark_config, base_time), NULL,
     "Event time of the first event, ms since the epoch (2023-11-14T22:13:20Z)."},
    {"seed", WIRE_OPT_INT, "42", 0, offsetof(nexmark_config, seed), NULL,
     "Seed of the generator: the same seed, the same events."},
    {"batch", WIRE_OPT_INT, "1024", 0, offsetof(nexmark_config, batch), NULL, "Events per batch."},
    {NULL},
};

/* The reference's constants (NexmarkConfiguration, GeneratorConfig). */
enum {
    PERSON_PROPORTION = 1,
    AUCTION_PROPORTION = 3,
    BID_PROPORTION = 46,
    TOTAL_PROPORTION = 50,
    FIRST_PERSON_ID = 1000,
    FIRST_AUCTION_ID = 1000,
    FIRST_CATEGORY_ID = 10,
    NUM_CATEGORIES = 5,
    PERSON_ID_LEAD = 10,
    AUCTION_ID_LEAD = 10,
    HOT_SELLER_RATIO = 100,
    HOT_AUCTION_RATIO = 100,
    HOT_BIDDER_RATIO = 100,
    HOT_AUCTION_RATIO_P = 2, /* hotAuctionRatio: 1 - 1/2 of bids go to a hot auction */
    HOT_BIDDERS_RATIO_P = 4,
    HOT_SELLERS_RATIO_P = 4,
    NUM_IN_FLIGHT_AUCTIONS = 100,
    NUM_ACTIVE_PEOPLE = 1000,
    AVG_PERSON_BYTES = 200,
    AVG_AUCTION_BYTES = 500,
    AVG_BID_BYTES = 100,
    MAX_EVENT_BYTES = 2048,
};

static const char *const FIRST_NAMES[] = {"Peter", "Paul",  "Luke",  "John",   "Saul",  "Vicky",
                                          "Kate",  "Julie", "Sarah", "Deiter", "Walter"};
static const char *const LAST_NAMES[] = {"Shultz", "Abrams", "Spencer", "White", "Bartels",
                                         "Walton", "Smith",  "Jones",   "Noris"};
static const char *const US_STATES[] = {"AZ", "CA", "ID", "OR", "WA", "WY"};
static const char *const US_CITIES[] = {"Phoenix",  "Los Angeles", "San Francisco", "Boise",
                                        "Portland", "Bend",        "Redmond",       "Seattle",
                                        "Kent",     "Cheyenne"};
static const char *const CHANNELS[] = {"Google", "Facebook", "Baidu", "Apple"};
static const char *const CHANNEL_URLS[] = {
    "https://www.google.com/search", "https://www.facebook.com/search",
    "https://www.baidu.com/search", "https://www.apple.com/search"};

typedef struct rng {
    uint64_t s;
} rng;

static uint64_t next64(rng *r) /* splitmix64 */
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* Uniform in [0, n) (n > 0). */
static int64_t below(rng *r, int64_t n)
{
    return n > 0 ? (int64_t)(next64(r) % (uint64_t)n) : 0;
}

static double unit(rng *r)
{
    return (double)(next64(r) >> 11) * (1.0 / 9007199254740992.0);
}

typedef struct gen {
    const nexmark_config *c;
} gen;

static int64_t time_of(const nexmark_config *c, int64_t n)
{
    return c->base_time + n * 1000 / (c->event_rate > 0 ? c->event_rate : 10000);
}

/* The last person and auction ids (base 0) at event id `id` (NexmarkUtils / generators). */
static int64_t last_person(int64_t id)
{
    int64_t epoch = id / TOTAL_PROPORTION, offset = id % TOTAL_PROPORTION;
    if (offset >= PERSON_PROPORTION)
        offset = PERSON_PROPORTION - 1;
    return epoch * PERSON_PROPORTION + offset;
}

static int64_t last_auction(int64_t id)
{
    int64_t epoch = id / TOTAL_PROPORTION, offset = id % TOTAL_PROPORTION;
    if (offset < PERSON_PROPORTION) {
        epoch--;
        offset = AUCTION_PROPORTION - 1;
    } else if (offset >= PERSON_PROPORTION + AUCTION_PROPORTION) {
        offset = AUCTION_PROPORTION - 1;
    } else {
        offset -= PERSON_PROPORTION;
    }
    return epoch * AUCTION_PROPORTION + offset;
}

/* A person among the active ones (and a few not yet seen: the lead). */
static int64_t next_person(rng *r, int64_t id)
{
    int64_t num = last_person(id) + 1;
    int64_t active = num < NUM_ACTIVE_PEOPLE ? num : NUM_ACTIVE_PEOPLE;
    return num - active + below(r, active + PERSON_ID_LEAD);
}

static int64_t next_auction(rng *r, int64_t id)
{
    int64_t max = last_auction(id);
    int64_t min = max - NUM_IN_FLIGHT_AUCTIONS > 0 ? max - NUM_IN_FLIGHT_AUCTIONS : 0;
    return min + below(r, max - min + 1 + AUCTION_ID_LEAD);
}

static int64_t next_price(rng *r)
{
    return (int64_t)llround(exp(unit(r) * 6.0 * M_LN10) * 100.0); /* 10^(6U) * 100 */
}

/* n letters with a space about every 13th, 8 of them from each draw of the PRNG. */
static char *put_letters(char *p, rng *r, int64_t n)
{
    while (n > 0) {
        uint64_t x = next64(r);
        for (int k = 0; k < 8 && n > 0; k++, n--, x >>= 8) {
            unsigned b = (unsigned)(x & 0xff);
            *p++ = b % 13 == 0 ? ' ' : (char)('a' + b % 26);
        }
    }
    return p;
}

/* Appends to p: 3 .. max-1 letters with a space now and then (nextString). */
static char *put_string(char *p, rng *r, int max)
{
    return put_letters(p, r, 3 + below(r, max - 3));
}

/* Padding so that the event averages `avg` bytes, +-20% (nextExtra). */
static char *put_extra(char *p, rng *r, size_t so_far, int avg)
{
    if ((int64_t)so_far >= avg)
        return p;
    int64_t want = avg - (int64_t)so_far, delta = (int64_t)llround((double)want * 0.2);
    return put_letters(p, r, want - delta + below(r, 2 * delta + 1));
}

static char *put_i64(char *p, int64_t v)
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

/* v (0..9999) in exactly 4 digits. */
static char *put_4(char *p, int64_t v)
{
    for (int i = 3; i >= 0; i--, v /= 10)
        p[i] = (char)('0' + v % 10);
    return p + 4;
}

static char *put_str(char *p, const char *s)
{
    size_t n = strlen(s);
    memcpy(p, s, n);
    return p + n;
}

#define LIT(p, s) ((p) = put_str((p), (s)))

static size_t render_person(char *out, rng *r, int64_t id, int64_t ts)
{
    char *p = out;
    size_t row = 8 + 8; /* the reference's size: 8 bytes a number, strings as they are */
    char *from;
    LIT(p, "{\"event_type\":0,\"person\":{\"id\":");
    p = put_i64(p, last_person(id) + FIRST_PERSON_ID);
    LIT(p, ",\"name\":\"");
    from = p;
    LIT(p, FIRST_NAMES[below(r, WIRE_ARRAY_LEN(FIRST_NAMES))]);
    LIT(p, " ");
    LIT(p, LAST_NAMES[below(r, WIRE_ARRAY_LEN(LAST_NAMES))]);
    row += (size_t)(p - from);
    LIT(p, "\",\"emailAddress\":\"");
    from = p;
    p = put_string(p, r, 7);
    LIT(p, "@");
    p = put_string(p, r, 5);
    LIT(p, ".com");
    row += (size_t)(p - from) + 19; /* and the credit card's */
    LIT(p, "\",\"creditCard\":\"");
    for (int g = 0; g < 4; g++) {
        if (g)
            *p++ = ' ';
        p = put_4(p, below(r, 10000));
    }
    LIT(p, "\",\"city\":\"");
    from = p;
    LIT(p, US_CITIES[below(r, WIRE_ARRAY_LEN(US_CITIES))]);
    row += (size_t)(p - from) + 2;
    LIT(p, "\",\"state\":\"");
    LIT(p, US_STATES[below(r, WIRE_ARRAY_LEN(US_STATES))]);
    LIT(p, "\",\"dateTime\":");
    p = put_i64(p, ts);
    LIT(p, ",\"extra\":\"");
    p = put_extra(p, r, row, AVG_PERSON_BYTES);
    LIT(p, "\"},\"auction\":null,\"bid\":null,\"dateTime\":");
    p = put_i64(p, ts);
    LIT(p, "}");
    return (size_t)(p - out);
}

static size_t render_auction(char *out, rng *r, const nexmark_config *c, int64_t n, int64_t id,
                             int64_t ts)
{
    char *p = out;
    int64_t initial = next_price(r);
    int64_t seller = below(r, HOT_SELLERS_RATIO_P) > 0
                         ? (last_person(id) / HOT_SELLER_RATIO) * HOT_SELLER_RATIO
                         : next_person(r, id);
    /* expires: within twice the time until NUM_IN_FLIGHT_AUCTIONS more auctions exist */
    int64_t ahead = (int64_t)NUM_IN_FLIGHT_AUCTIONS * TOTAL_PROPORTION / AUCTION_PROPORTION;
    int64_t horizon = time_of(c, n + ahead) - ts;
    int64_t length = 1 + below(r, horizon * 2 > 1 ? horizon * 2 : 1);
    LIT(p, "{\"event_type\":1,\"person\":null,\"auction\":{\"id\":");
    p = put_i64(p, last_auction(id) + FIRST_AUCTION_ID);
    LIT(p, ",\"itemName\":\"");
    char *from = p;
    p = put_string(p, r, 20);
    size_t row = 8 * 7 + (size_t)(p - from);
    LIT(p, "\",\"description\":\"");
    from = p;
    p = put_string(p, r, 100);
    row += (size_t)(p - from);
    LIT(p, "\",\"initialBid\":");
    p = put_i64(p, initial);
    LIT(p, ",\"reserve\":");
    p = put_i64(p, initial + next_price(r));
    LIT(p, ",\"dateTime\":");
    p = put_i64(p, ts);
    LIT(p, ",\"expires\":");
    p = put_i64(p, ts + length);
    LIT(p, ",\"seller\":");
    p = put_i64(p, seller + FIRST_PERSON_ID);
    LIT(p, ",\"category\":");
    p = put_i64(p, FIRST_CATEGORY_ID + below(r, NUM_CATEGORIES));
    LIT(p, ",\"extra\":\"");
    p = put_extra(p, r, row, AVG_AUCTION_BYTES);
    LIT(p, "\"},\"bid\":null,\"dateTime\":");
    p = put_i64(p, ts);
    LIT(p, "}");
    return (size_t)(p - out);
}

static size_t render_bid(char *out, rng *r, int64_t id, int64_t ts)
{
    char *p = out;
    int64_t auction = below(r, HOT_AUCTION_RATIO_P) > 0
                          ? (last_auction(id) / HOT_AUCTION_RATIO) * HOT_AUCTION_RATIO
                          : next_auction(r, id);
    /* the reference adds FIRST_PERSON_ID to a bidder twice (BidGenerator lines 80, 96) */
    int64_t bidder = below(r, HOT_BIDDERS_RATIO_P) > 0
                         ? (last_person(id) / HOT_BIDDER_RATIO) * HOT_BIDDER_RATIO + 1
                         : next_person(r, id);
    bidder += 2 * FIRST_PERSON_ID;
    int64_t price = next_price(r);
    LIT(p, "{\"event_type\":2,\"person\":null,\"auction\":null,\"bid\":{\"auction\":");
    p = put_i64(p, auction + FIRST_AUCTION_ID);
    LIT(p, ",\"bidder\":");
    p = put_i64(p, bidder);
    LIT(p, ",\"price\":");
    p = put_i64(p, price);
    LIT(p, ",\"channel\":\"");
    char *from = p;
    if (below(r, 2) == 0) { /* half the bids come from the four big channels */
        int64_t k = below(r, WIRE_ARRAY_LEN(CHANNELS));
        LIT(p, CHANNELS[k]);
        LIT(p, "\",\"url\":\"");
        LIT(p, CHANNEL_URLS[k]);
    } else {
        int64_t k = below(r, 10000);
        LIT(p, "channel-");
        p = put_i64(p, k);
        LIT(p, "\",\"url\":\"https://www.nexmark.com/");
        p = put_string(p, r, 5);
        LIT(p, "/item.htm?query=1");
        if (below(r, 10) > 0) { /* 90% carry the channel id */
            LIT(p, "&channel_id=");
            p = put_i64(p, k);
        }
    }
    size_t row = 8 * 4 + (size_t)(p - from) - 9; /* channel and url, not the key between */
    LIT(p, "\",\"dateTime\":");
    p = put_i64(p, ts);
    LIT(p, ",\"extra\":\"");
    p = put_extra(p, r, row, AVG_BID_BYTES);
    LIT(p, "\"},\"dateTime\":");
    p = put_i64(p, ts);
    LIT(p, "}");
    return (size_t)(p - out);
}

/* Event number n (0-based) into out (MAX_EVENT_BYTES). */
static size_t render(const nexmark_config *c, int64_t n, char *out)
{
    int64_t id = 1 + n, ts = time_of(c, n);
    rng r = {(uint64_t)c->seed * 0xD1B54A32D192ED03ULL ^ (uint64_t)id * 0x9E3779B97F4A7C15ULL};
    next64(&r);
    int64_t rem = id % TOTAL_PROPORTION;
    if (rem < PERSON_PROPORTION)
        return render_person(out, &r, id, ts);
    if (rem < PERSON_PROPORTION + AUCTION_PROPORTION)
        return render_auction(out, &r, c, n, id, ts);
    return render_bid(out, &r, id, ts);
}

static int nexmark_create(void **self, const void *config, const wire_component_env *env,
                          wire_err *err)
{
    const nexmark_config *c = config;
    if (c->event_rate <= 0)
        return wire_errf(err, WIRE_EINVAL, "event_rate must be positive");
    *self = (void *)c;
    return 0;
}

static void nexmark_destroy(void *self) {}

static int nexmark_run(void *self, wire_source_ctx *ctx, wire_err *err)
{
    const nexmark_config *c = self;
    const wire_position *resume = wire_source_resume(ctx, 0);
    uint64_t n = resume ? resume->offset : 0;
    uint64_t count = c->count > 0 ? (uint64_t)c->count : UINT64_MAX;
    uint64_t per_batch = wire_source_pace_batch(c->batch, c->rate);
    int64_t start_ns = wire_mono_ns();
    uint64_t produced = 0;
    while (n < count) {
        if (wire_source_stopping(ctx))
            return WIRE_ESTOPPED;
        wire_source_pace(ctx, start_ns, produced, c->rate);
        wire_batch *b = wire_source_batch(ctx);
        uint64_t k = count - n < per_batch ? count - n : per_batch;
        for (uint64_t i = 0; i < k; i++, n++) {
            char *dst = wire_arena_alloc_unaligned(&b->arena, MAX_EVENT_BYTES);
            size_t len = render(c, (int64_t)n, dst);
            wire_event *e = wire_batch_push(b, dst, (uint32_t)len);
            e->offset = n;
            e->time_ms = time_of(c, (int64_t)n);
        }
        produced += k;
        wire_position pos = {0};
        pos.offset = n;
        wire_batch_set_position(b, &pos);
        if (wire_source_emit(ctx, b, true) != 0) /* every rendering is a JSON object */
            return WIRE_ESTOPPED;
    }
    return 0;
}

const wire_source_def wire_source_nexmark = {
    .base = {WIRE_KIND_SOURCE, "nexmark",
             "The Nexmark benchmark's Person/Auction/Bid stream (reproducible: fixed base time "
             "and seed)",
             nexmark_options, sizeof(nexmark_config), WIRE_CAP_BOUNDED | WIRE_CAP_REPLAYABLE,
             nexmark_create, nexmark_destroy},
    .run = nexmark_run,
};
