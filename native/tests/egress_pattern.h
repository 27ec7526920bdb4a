/*
 * The byte stream the egress tests send through the forwarder, the same on both ends: byte i of
 * stream `seed` is a hash of (seed, i), so a lost, repeated or reordered byte shows at its
 * offset without either side keeping a copy of what it sent.
 */
#ifndef STK_EGRESS_PATTERN_H
#define STK_EGRESS_PATTERN_H

#include <stddef.h>
#include <stdint.h>

static inline uint8_t egress_pattern_byte(uint32_t seed, uint64_t i)
{
    uint32_t x = (uint32_t)i * 2654435761u ^ (uint32_t)(i >> 32) ^ seed * 40503u;
    x ^= x >> 15;
    x *= 2246822519u;
    x ^= x >> 13;
    return (uint8_t)(x >> 24);
}

static inline void egress_pattern_fill(uint32_t seed, uint64_t offset, uint8_t *buf, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        buf[k] = egress_pattern_byte(seed, offset + k);
    }
}

/* The index of the first byte that differs from the stream, or n when none does. */
static inline size_t egress_pattern_check(uint32_t seed, uint64_t offset, const uint8_t *buf,
                                          size_t n)
{
    for (size_t k = 0; k < n; k++) {
        if (buf[k] != egress_pattern_byte(seed, offset + k)) {
            return k;
        }
    }
    return n;
}

/* The reply's stream for a request stream's seed. */
#define EGRESS_REPLY_SEED(seed) ((seed) ^ 0xa5a5a5a5u)

#endif
