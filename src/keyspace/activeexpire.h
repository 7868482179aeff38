/* activeexpire: reclaiming expired keys nobody asks for.
 *
 * The slow cycle runs from the cron (hz times a second) with a budget of 25%
 * of one core (plus 2% per active-expire-effort step), the fast cycle from
 * before-sleep with 1 ms when the previous cycle ran out of time with many
 * expired keys left (Redis's effort model).  Each walks the table's buckets in
 * hash order looking only at slots whose TTL bit is set (table.h), so keys
 * without a TTL cost nothing, and remembers where it stopped per database. */
#ifndef SARDINE_ACTIVEEXPIRE_H
#define SARDINE_ACTIVEEXPIRE_H

enum { EXPIRE_SLOW = 0, EXPIRE_FAST = 1 };
void active_expire_cycle(int type);
#endif
