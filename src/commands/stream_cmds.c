/* stream_cmds: the stream commands with Redis 7.0's argument rules, replies
 * and error texts, in the order Redis checks them (it decides which error a
 * client sees).
 *
 * A stream key may hold an empty stream (XDEL/XTRIM of everything, XGROUP
 * CREATE MKSTREAM): unlike other types, streams are not deleted when empty.
 *
 * Blocking (XREAD/XREADGROUP BLOCK) goes through features/blocking.h: a command
 * that cannot be served registers its keys and is executed again when XADD
 * signals one of them.  Before blocking, XREAD's "$" IDs are replaced in the
 * saved copy of the command by the stream's last ID at that moment, so the
 * re-execution waits for entries after it.  When re-executed (the client
 * flag CLIENT_REPROCESSING), the command follows Redis's rules for serving a
 * blocked client: a key is served when its last generated ID is past the
 * client's ID (or its group's last delivered ID), only the first such key is
 * served, a missing COUNT means 1000, and a group destroyed meanwhile gets the
 * "-NOGROUP ... no longer exists" error. */
#include "commands/command.h"
#include "commands/commands.h"
#include "commands/propagate.h"
#include "protocol/reply.h"
#include "features/blocking.h"
#include "server/server.h"
#include "types/limits.h"
#include "types/tstream.h"
#include "util/mem.h"
#include "util/numconv.h"
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STREAM_CMD(name) void cmd_##name(client *c);
STREAM_CMD(xadd) STREAM_CMD(xlen) STREAM_CMD(xrange) STREAM_CMD(xrevrange) STREAM_CMD(xdel) STREAM_CMD(xtrim)
STREAM_CMD(xread) STREAM_CMD(xreadgroup) STREAM_CMD(xack) STREAM_CMD(xpending) STREAM_CMD(xclaim)
STREAM_CMD(xautoclaim) STREAM_CMD(xsetid) STREAM_CMD(xgroup_create) STREAM_CMD(xgroup_setid)
STREAM_CMD(xgroup_destroy) STREAM_CMD(xgroup_createconsumer) STREAM_CMD(xgroup_delconsumer)
STREAM_CMD(xgroup_help) STREAM_CMD(xinfo_stream) STREAM_CMD(xinfo_groups) STREAM_CMD(xinfo_consumers)
STREAM_CMD(xinfo_help)
#undef STREAM_CMD

#define XREAD_BLOCKED_DEFAULT_COUNT 1000

static const sid SID_MIN = {0, 0};
static const sid SID_MAX = {UINT64_MAX, UINT64_MAX};

/* ---- helpers ---- */

/* 1 found a stream, 0 missing, -1 wrong type (replied). */
static int get_stream(client *c, const arg *k, int flags, kref *r, stream **s) {
    if (!db_lookup(c->db, k->p, k->len, flags, r)) return 0;
    if (e_type(r->e) != OBJ_STREAM) {
        reply_wrongtype(c);
        return -1;
    }
    *s = e_ptr(r->e);
    return 1;
}

static void reply_arity_error(client *c) {
    char msg[128];
    snprintf(msg, sizeof(msg), "ERR wrong number of arguments for '%s' command", c->cmd->fullname);
    reply_error(c, msg);
}

static void reply_subcommand_syntax(client *c, const char *cont) {
    reply_errorf(c, "ERR unknown subcommand or wrong number of arguments for '%.*s'. Try %s HELP.",
                 (int)(c->argv[1].len > 128 ? 128 : c->argv[1].len), c->argv[1].p, cont);
}

static void reply_id(client *c, const sid *id) {
    char buf[SID_MAX_STR];
    reply_bulk(c, buf, (size_t)sid_format(buf, id));
}

static void reply_lpval(client *c, const lp_val *v) {
    if (v->s) reply_bulk(c, v->s, v->len);
    else reply_bulk_ll(c, v->i);
}

/* Redis's string2ull: a canonical long long (not negative), or whatever strtoull accepts in full. */
static int parse_ull(const char *s, unsigned long long *out) {
    long long ll;
    if (str2ll(s, strlen(s), &ll)) {
        if (ll < 0) return 0;
        *out = (unsigned long long)ll;
        return 1;
    }
    errno = 0;
    char *end = NULL;
    *out = strtoull(s, &end, 10);
    if (errno == EINVAL || errno == ERANGE || !(*s != '\0' && *end == '\0')) return 0;
    return 1;
}

/* Parses "ms-seq", "ms" (seq = missing_seq), and unless strict "-" / "+"; with seq_given, "ms-*" too.
 * Replies the error when c is not NULL.  Like Redis, the argument is read as a C string. */
static int parse_id(client *c, const arg *a, sid *id, uint64_t missing_seq, int strict, int *seq_given) {
    char buf[128];
    if (a->len > sizeof(buf) - 1) goto invalid;
    memcpy(buf, a->p, a->len);
    buf[a->len] = '\0';
    if (strict && (buf[0] == '-' || buf[0] == '+') && buf[1] == '\0') goto invalid;
    if (seq_given) *seq_given = 1;
    if (buf[0] == '-' && buf[1] == '\0') {
        *id = SID_MIN;
        return 1;
    }
    if (buf[0] == '+' && buf[1] == '\0') {
        *id = SID_MAX;
        return 1;
    }
    unsigned long long ms, seq;
    char *dash = strchr(buf, '-');
    if (dash) *dash = '\0';
    if (!parse_ull(buf, &ms)) goto invalid;
    if (dash) {
        if (seq_given && dash[1] == '*' && dash[2] == '\0') {
            seq = 0;
            *seq_given = 0;
        } else if (!parse_ull(dash + 1, &seq)) {
            goto invalid;
        }
    } else {
        seq = missing_seq;
    }
    id->ms = ms;
    id->seq = seq;
    return 1;
invalid:
    if (c) reply_error(c, "ERR Invalid stream ID specified as stream command argument");
    return 0;
}

static int parse_strict_id(client *c, const arg *a, sid *id) { return parse_id(c, a, id, 0, 1, NULL); }

/* An interval bound: "(" makes it exclusive (then parsed strictly). */
static int parse_interval_id(client *c, const arg *a, sid *id, int *exclusive, uint64_t missing_seq) {
    *exclusive = a->len > 1 && a->p[0] == '(';
    if (*exclusive) {
        arg t = {a->p + 1, a->len - 1};
        return parse_id(c, &t, id, missing_seq, 1, NULL);
    }
    return parse_id(c, a, id, missing_seq, 0, NULL);
}

static int same_arg(const arg *a, const char *s) { return a->len == strlen(s) && !memcmp(a->p, s, a->len); }

/* One entry: [id, [field, value, ...]]. */
static void reply_entry(client *c, stream_iter *it, const sid *id, int64_t nf) {
    reply_array(c, 2);
    reply_id(c, id);
    reply_array(c, nf * 2);
    for (int64_t i = 0; i < nf; i++) {
        lp_val f, v;
        stream_iter_field(it, &f, &v);
        reply_lpval(c, &f);
        reply_lpval(c, &v);
    }
}

/* Emits the entry with this ID if it is live; 1 if emitted. */
static int reply_one(client *c, stream *s, const sid *id) {
    stream_iter it;
    sid got;
    int64_t nf;
    stream_iter_start(&it, s, id, id, 0);
    int found = stream_iter_next(&it, &got, &nf);
    if (found) reply_entry(c, &it, &got, nf);
    stream_iter_done(&it);
    return found;
}

/* ---- propagation of consumer-group state (Redis's forms, so that replicas and AOF agree) ---- */

/* XCLAIM key group consumer 0 id TIME t RETRYCOUNT n FORCE JUSTID LASTID last: the PEL entry as it is now
 * (p NULL: the entry was dropped from the PEL because it no longer exists; the replica's XCLAIM drops it too). */
static void propagate_claim(client *c, const arg *k, const sgroup *g, const arg *cname, const sid *id,
                            const spel *p) {
    if (!prop_has_sinks()) return;
    char idb[SID_MAX_STR], lastb[SID_MAX_STR], tb[24], nb[24];
    size_t l[14] = {6, k->len, g->nlen, cname->len, 1, (size_t)sid_format(idb, id), 4,
                    (size_t)snprintf(tb, sizeof(tb), "%lld", p ? (long long)p->delivery_time : 0LL), 10,
                    (size_t)snprintf(nb, sizeof(nb), "%llu", p ? (unsigned long long)p->delivery_count : 0ULL), 5, 6,
                    6, (size_t)sid_format(lastb, &g->last_id)};
    const char *v[14] = {"XCLAIM", k->p, g->name, cname->p, "0", idb, "TIME", tb, "RETRYCOUNT", nb, "FORCE",
                         "JUSTID", "LASTID", lastb};
    prop_also_strs(c->db->id, 14, v, l);
}

/* XGROUP SETID key group last ENTRIESREAD n: the group's position. */
static void propagate_group_position(client *c, const arg *k, const sgroup *g) {
    if (!prop_has_sinks()) return;
    char lastb[SID_MAX_STR], nb[24];
    const char *v[7] = {"XGROUP", "SETID", k->p, g->name, lastb, "ENTRIESREAD", nb};
    size_t l[7] = {6, 5, k->len, g->nlen, (size_t)sid_format(lastb, &g->last_id), 11,
                   (size_t)snprintf(nb, sizeof(nb), "%lld", (long long)g->entries_read)};
    prop_also_strs(c->db->id, 7, v, l);
}

static void propagate_consumer_creation(client *c, const arg *k, const sgroup *g, const arg *cname) {
    const char *v[5] = {"XGROUP", "CREATECONSUMER", k->p, g->name, cname->p};
    size_t l[5] = {6, 14, k->len, g->nlen, cname->len};
    prop_also_strs(c->db->id, 5, v, l);
}

/* Redis's streamReplyWithRange for XREADGROUP ">": emits entries from start, advancing the group and
 * adding them to the pending lists unless noack. */
static size_t reply_group_range(client *c, stream *s, const sid *start, size_t count, sgroup *g, sconsumer *cons,
                                int noack, const arg *k, const arg *cname) {
    size_t pos = reply_defer(c), n = 0;
    stream_iter it;
    sid id;
    int64_t nf;
    long long now = mstime();
    stream_iter_start(&it, s, start, NULL, 0);
    while (stream_iter_next(&it, &id, &nf)) {
        if (sid_cmp(&id, &g->last_id) > 0) {
            if (g->entries_read != STREAM_ENTRIES_READ_INVALID && !stream_range_has_tombstones(s, &id, NULL))
                g->entries_read++;
            else if (s->entries_added)
                g->entries_read = stream_estimate_distance(s, &id);
            g->last_id = id;
        }
        reply_entry(c, &it, &id, nf);
        if (!noack) {
            int existed;
            spel *p = stream_pel_add(g, &id, &existed);
            p->delivery_time = now;
            p->delivery_count = 1;
            stream_pel_assign(g, p, cons);
            propagate_claim(c, k, g, cname, &id, p);
        }
        n++;
        if (count && n == count) break;
    }
    stream_iter_done(&it);
    reply_defer_set(c, pos, (long)n, '*');
    return n;
}

/* XREADGROUP with an ID: the consumer's own pending entries from start. */
static void reply_consumer_history(client *c, stream *s, const sid *start, size_t count, sgroup *g, sconsumer *cons,
                                   const arg *k, const arg *cname) {
    size_t pos = reply_defer(c), n = 0;
    long long now = mstime();
    sidx_cur cur;
    sid next = *start;
    while ((!count || n < count) && sidx_seek_ge(&cons->pel, &next, &cur)) {
        sid id = *(sid *)sidx_at(&cons->pel, &cur);
        if (reply_one(c, s, &id)) {
            spel *p = stream_pel_find(g, &id);
            p->delivery_time = now;
            p->delivery_count++;
            propagate_claim(c, k, g, cname, &id, p);
        } else {
            reply_array(c, 2);
            reply_id(c, &id);
            reply_null_array(c);
        }
        n++;
        next = id;
        if (!sid_incr(&next)) break;
    }
    reply_defer_set(c, pos, (long)n, '*');
}

/* ---- XADD / XTRIM ---- */

/* Parses the options of XADD (xadd=1) or XTRIM from argv[2]; returns the ID's position for XADD
 * (or argc when options run out), -1 after replying an error. */
static int parse_add_trim(client *c, int xadd, strim *t, int *nomkstream, int *id_given, int *seq_given, sid *id) {
    memset(t, 0, sizeof(*t));
    t->strategy = TRIM_NONE;
    *nomkstream = *id_given = 0;
    *seq_given = 1;
    int i = 2, limit_given = 0;
    for (; i < c->argc; i++) {
        int more = c->argc - 1 - i;
        const arg *o = &c->argv[i];
        if (xadd && o->len == 1 && o->p[0] == '*') break;
        if ((arg_is(o, "maxlen") || arg_is(o, "minid")) && more) {
            int maxlen = arg_is(o, "maxlen");
            if (t->strategy != TRIM_NONE) {
                reply_error(c, "ERR syntax error, MAXLEN and MINID options at the same time are not compatible");
                return -1;
            }
            t->approx = 0;
            const arg *nx = &c->argv[i + 1];
            if (more >= 2 && nx->len == 1 && nx->p[0] == '~') {
                t->approx = 1;
                i++;
            } else if (more >= 2 && nx->len == 1 && nx->p[0] == '=') {
                i++;
            }
            if (maxlen) {
                if (!arg_ll(c, &c->argv[i + 1], &t->maxlen, NULL)) return -1;
                if (t->maxlen < 0) {
                    reply_error(c, "ERR The MAXLEN argument must be >= 0.");
                    return -1;
                }
                t->strategy = TRIM_MAXLEN;
            } else {
                if (!parse_strict_id(c, &c->argv[i + 1], &t->minid)) return -1;
                t->strategy = TRIM_MINID;
            }
            i++;
        } else if (arg_is(o, "limit") && more) {
            if (!arg_ll(c, &c->argv[i + 1], &t->limit, NULL)) return -1;
            if (t->limit < 0) {
                reply_error(c, "ERR The LIMIT argument must be >= 0.");
                return -1;
            }
            limit_given = 1;
            i++;
        } else if (xadd && arg_is(o, "nomkstream")) {
            *nomkstream = 1;
        } else if (xadd) {
            if (!parse_id(c, o, id, 0, 1, seq_given)) return -1;
            *id_given = 1;
            break;
        } else {
            reply_syntax_error(c);
            return -1;
        }
    }
    if (t->limit && t->strategy == TRIM_NONE) {
        reply_error(c, "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy");
        return -1;
    }
    if (!xadd && t->strategy == TRIM_NONE) {
        reply_error(c, "ERR syntax error, XTRIM must be called with a trimming strategy");
        return -1;
    }
    if (limit_given) {
        if (!t->approx) {
            reply_error(c, "ERR syntax error, LIMIT cannot be used without the special ~ option");
            return -1;
        }
    } else if (t->approx) {
        t->limit = 100 * limits.stream_node_max_entries;
        if (t->limit <= 0 || t->limit > 10000) t->limit = 10000;
    } else {
        t->limit = 0;
    }
    return i;
}

/* XADD and XTRIM propagate as Redis does: XADD with the ID it chose in place of "*" (or "ms-*"), and an
 * approximate trim ("~") as the exact one it amounted to ("=" and the length, or the first ID, it left),
 * without LIMIT.  An exact XTRIM propagates as it is.  idpos: XADD's ID argument, 0 for XTRIM. */
static void propagate_add_trim(client *c, const sid *nid, int idpos, const strim *t, const stream *s) {
    if (!idpos && !t->approx) return;
    if (!prop_has_sinks()) {
        prop_prevent(c);
        return;
    }
    arg stackv[24], *v = c->argc <= 24 ? stackv : s_malloc(sizeof(arg) * (size_t)c->argc);
    char idbuf[SID_MAX_STR], thr[SID_MAX_STR];
    int n = 0, end = idpos ? idpos : c->argc;
    for (int i = 0; i < end; i++) {
        const arg *a = &c->argv[i];
        if (i >= 2 && t->approx && arg_is(a, "limit") && i + 1 < end) {
            i++; /* LIMIT n: only meaningful with "~" */
            continue;
        }
        v[n++] = *a;
        if (i >= 2 && t->approx && (arg_is(a, "maxlen") || arg_is(a, "minid")) && i + 1 < end) {
            if (same_arg(&c->argv[i + 1], "~") || same_arg(&c->argv[i + 1], "=")) i++;
            v[n++] = (arg){(char *)"=", 1};
            i++; /* the threshold, replaced by what the trim left */
            if (arg_is(a, "minid") && s->length) {
                v[n++] = (arg){thr, (size_t)sid_format(thr, &s->first_id)};
            } else {
                v[n - 2] = (arg){(char *)"MAXLEN", 6};
                v[n++] = (arg){thr, (size_t)snprintf(thr, sizeof(thr), "%llu", (unsigned long long)s->length)};
            }
        }
    }
    if (idpos) {
        v[n++] = (arg){idbuf, (size_t)sid_format(idbuf, nid)};
        for (int i = idpos + 1; i < c->argc; i++) v[n++] = c->argv[i];
    }
    prop_rewrite(c, n, v);
    if (v != stackv) s_free(v);
}

void cmd_xadd(client *c) {
    strim t;
    int nomk, id_given, seq_given;
    sid id = {0, 0};
    int idpos = parse_add_trim(c, 1, &t, &nomk, &id_given, &seq_given, &id);
    if (idpos < 0) return;
    int fpos = idpos + 1;
    if (c->argc - fpos < 2 || (c->argc - fpos) % 2 == 1) {
        reply_arity_error(c);
        return;
    }
    if (id_given && seq_given && id.ms == 0 && id.seq == 0) {
        reply_error(c, "ERR The ID specified in XADD must be greater than 0-0");
        return;
    }
    const arg *k = &c->argv[1];
    kref r;
    stream *s = NULL;
    int f = get_stream(c, k, LOOKUP_NOSTATS, &r, &s);
    long long mark = dirty_mark();
    if (f < 0) return;
    if (!f && nomk) {
        reply_null(c);
        return;
    }
    stream *fresh = f ? NULL : stream_new();
    if (fresh) s = fresh;
    if (s->last_id.ms == UINT64_MAX && s->last_id.seq == UINT64_MAX) {
        reply_error(c, "ERR The stream has exhausted the last possible ID, unable to add more items");
        return; /* only reachable for an existing stream */
    }
    sid nid;
    int ok = 1;
    if (id_given) {
        if (seq_given) {
            nid = id;
        } else if (s->last_id.ms == id.ms) {
            if (s->last_id.seq == UINT64_MAX) ok = 0;
            nid = s->last_id;
            nid.seq++;
        } else {
            nid = id;
        }
    } else {
        uint64_t ms = (uint64_t)mstime();
        if (ms > s->last_id.ms) {
            nid.ms = ms;
            nid.seq = 0;
        } else {
            nid = s->last_id;
            sid_incr(&nid);
        }
    }
    if (!ok || sid_cmp(&nid, &s->last_id) <= 0) {
        if (fresh) stream_free(fresh);
        /* 7.0 reports "ms-*" past the last sequence number with this text */
        reply_error(c, !ok ? "ERR Elements are too large to be stored"
                           : "ERR The ID specified in XADD is equal or smaller than the target stream top item");
        return;
    }
    long nf = (c->argc - fpos) / 2;
    sbuf stackfv[16], *fv = nf * 2 <= 16 ? stackfv : s_malloc(sizeof(sbuf) * (size_t)nf * 2);
    for (long i = 0; i < nf * 2; i++) {
        fv[i].p = c->argv[fpos + i].p;
        fv[i].len = c->argv[fpos + i].len;
    }
    stream_append(s, &nid, fv, nf);
    if (fv != stackfv) s_free(fv);
    if (fresh) {
        entry_value v = {.type = OBJ_STREAM, .store = VAL_PTR, .ptr = s};
        db_set_value_at(&r, k->p, k->len, &v, -1);
    }
    reply_id(c, &nid);
    if (t.strategy != TRIM_NONE) stream_trim(s, &t);
    propagate_add_trim(c, &nid, idpos, &t, s);
    key_changed(c, k, FX_STREAM, "xadd");
    dirty_count(mark, 1); /* Redis: one, a new key and the trimming included */
    fx_ready(c->db, k->p, k->len);
}

void cmd_xtrim(client *c) {
    strim t;
    int nomk, id_given, seq_given;
    sid id;
    if (parse_add_trim(c, 0, &t, &nomk, &id_given, &seq_given, &id) < 0) return;
    kref r;
    stream *s;
    int f = get_stream(c, &c->argv[1], LOOKUP_NOSTATS, &r, &s);
    if (f <= 0) {
        if (!f) reply_int(c, 0);
        return;
    }
    long long mark = dirty_mark(), deleted = stream_trim(s, &t);
    if (deleted) {
        propagate_add_trim(c, NULL, 0, &t, s);
        key_changed(c, &c->argv[1], FX_STREAM, "xtrim");
    }
    dirty_count(mark, deleted); /* Redis: one per entry trimmed */
    reply_int(c, deleted);
}

/* ---- XLEN / XRANGE / XREVRANGE / XDEL ---- */

void cmd_xlen(client *c) {
    kref r;
    stream *s;
    int f = get_stream(c, &c->argv[1], 0, &r, &s);
    if (f < 0) return;
    reply_int(c, f ? (long long)s->length : 0);
}

static void range_generic(client *c, int rev) {
    const arg *sa = &c->argv[rev ? 3 : 2], *ea = &c->argv[rev ? 2 : 3];
    sid start, end;
    int sx, ex;
    long long count = -1;
    if (!parse_interval_id(c, sa, &start, &sx, 0)) return;
    if (sx && !sid_incr(&start)) {
        reply_error(c, "ERR invalid start ID for the interval");
        return;
    }
    if (!parse_interval_id(c, ea, &end, &ex, UINT64_MAX)) return;
    if (ex && !sid_decr(&end)) {
        reply_error(c, "ERR invalid end ID for the interval");
        return;
    }
    for (int j = 4; j < c->argc; j++) {
        if (arg_is(&c->argv[j], "count") && c->argc - j - 1 >= 1) {
            if (!arg_ll(c, &c->argv[j + 1], &count, NULL)) return;
            if (count < 0) count = 0;
            j++;
        } else {
            reply_syntax_error(c);
            return;
        }
    }
    kref r;
    stream *s;
    int f = get_stream(c, &c->argv[1], 0, &r, &s);
    if (f <= 0) {
        if (!f) reply_array(c, 0);
        return;
    }
    if (count == 0) {
        reply_null_array(c);
        return;
    }
    size_t pos = reply_defer(c);
    long n = 0;
    stream_iter it;
    sid id;
    int64_t nf;
    stream_iter_start(&it, s, &start, &end, rev);
    while ((count < 0 || n < count) && stream_iter_next(&it, &id, &nf)) {
        reply_entry(c, &it, &id, nf);
        n++;
    }
    stream_iter_done(&it);
    reply_defer_set(c, pos, n, '*');
}

void cmd_xrange(client *c) { range_generic(c, 0); }
void cmd_xrevrange(client *c) { range_generic(c, 1); }

void cmd_xdel(client *c) {
    kref r;
    stream *s;
    int f = get_stream(c, &c->argv[1], LOOKUP_NOSTATS, &r, &s);
    if (f <= 0) {
        if (!f) reply_int(c, 0);
        return;
    }
    int n = c->argc - 2;
    sid stackids[16], *ids = n <= 16 ? stackids : s_malloc(sizeof(sid) * (size_t)n);
    for (int j = 0; j < n; j++)
        if (!parse_strict_id(c, &c->argv[j + 2], &ids[j])) goto done;
    long long deleted = 0;
    int first_entry = 0;
    for (int j = 0; j < n; j++) {
        if (!stream_delete(s, &ids[j])) continue;
        if (sid_cmp(&ids[j], &s->first_id) == 0) first_entry = 1;
        if (sid_cmp(&ids[j], &s->max_deleted_id) > 0) s->max_deleted_id = ids[j];
        deleted++;
    }
    if (deleted) {
        if (s->length == 0) s->first_id = SID_MIN;
        else if (first_entry) stream_first_valid(s, &s->first_id);
        long long mark = dirty_mark();
        key_changed(c, &c->argv[1], FX_STREAM, "xdel");
        dirty_count(mark, deleted); /* Redis: one per entry deleted */
    }
    reply_int(c, deleted);
done:
    if (ids != stackids) s_free(ids);
}

/* ---- XREAD / XREADGROUP ---- */

static void read_generic(client *c, int group_mode) {
    long long timeout = -1, count = 0;
    int streams_arg = 0, nstreams = 0, noack = 0;
    const arg *gname = NULL, *cname = NULL;
    for (int i = 1; i < c->argc; i++) {
        int more = c->argc - i - 1;
        const arg *o = &c->argv[i];
        if (arg_is(o, "block") && more) {
            i++;
            if (!arg_ll(c, &c->argv[i], &timeout, "ERR timeout is not an integer or out of range")) return;
            if (timeout < 0) {
                reply_error(c, "ERR timeout is negative");
                return;
            }
        } else if (arg_is(o, "count") && more) {
            i++;
            if (!arg_ll(c, &c->argv[i], &count, NULL)) return;
            if (count < 0) count = 0;
        } else if (arg_is(o, "streams") && more) {
            streams_arg = i + 1;
            nstreams = c->argc - streams_arg;
            if (nstreams % 2) {
                reply_error(c, "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be "
                               "specified."); /* 7.0's text, XREADGROUP included */
                return;
            }
            nstreams /= 2;
            break;
        } else if (arg_is(o, "group") && more >= 2) {
            if (!group_mode) {
                reply_error(c, "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.");
                return;
            }
            gname = &c->argv[i + 1];
            cname = &c->argv[i + 2];
            i += 2;
        } else if (arg_is(o, "noack")) {
            if (!group_mode) {
                reply_error(c, "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.");
                return;
            }
            noack = 1;
        } else {
            reply_syntax_error(c);
            return;
        }
    }
    if (!streams_arg) {
        reply_syntax_error(c);
        return;
    }
    if (group_mode && !gname) {
        reply_error(c, "ERR Missing GROUP option for XREADGROUP");
        return;
    }
    long long deadline = 0;
    if (timeout > 0) {
        long long now = mstime();
        deadline = timeout > LLONG_MAX - now ? 0 : now + timeout; /* past LLONG_MAX: forever, as 7.0 */
    }
    int reproc = (c->flags & CLIENT_REPROCESSING) != 0;
    const arg *keys = &c->argv[streams_arg];
    sid stackids[8], *ids = nstreams <= 8 ? stackids : s_malloc(sizeof(sid) * (size_t)nstreams);
    uint8_t stackgt[8], *is_new = nstreams <= 8 ? stackgt : s_malloc((size_t)nstreams); /* ">" */
    for (int i = 0; i < nstreams; i++) {
        const arg *ida = &c->argv[streams_arg + nstreams + i];
        kref r;
        stream *s = NULL;
        is_new[i] = 0;
        int f;
        if (reproc) { /* keys that hold another type meanwhile are passed over */
            f = db_lookup(c->db, keys[i].p, keys[i].len, LOOKUP_NOSTATS, &r) && e_type(r.e) == OBJ_STREAM;
            if (f) s = e_ptr(r.e);
        } else {
            f = get_stream(c, &keys[i], 0, &r, &s);
            if (f < 0) goto done;
        }
        if (group_mode && !reproc && (!f || !stream_group_find(s, gname->p, gname->len))) {
            reply_errorf(c, "NOGROUP No such key '%.*s' or consumer group '%.*s' in XREADGROUP with GROUP option",
                         (int)keys[i].len, keys[i].p, (int)gname->len, gname->p);
            goto done;
        }
        if (same_arg(ida, "$")) {
            if (group_mode) {
                reply_error(c, "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the "
                               "history of this consumer by specifying a proper ID, or use the > ID to get new "
                               "messages. The $ ID would just return an empty result set.");
                goto done;
            }
            ids[i] = f ? s->last_id : SID_MIN;
            continue;
        }
        if (same_arg(ida, ">")) {
            if (!group_mode) {
                reply_error(c, "ERR The > ID can be specified only when calling XREADGROUP using the GROUP "
                               "<group> <consumer> option.");
                goto done;
            }
            ids[i] = SID_MAX;
            is_new[i] = 1;
            continue;
        }
        if (!parse_strict_id(c, ida, &ids[i])) goto done;
    }

    /* serve what can be served now */
    size_t pos = 0;
    long served = 0;
    long long now = mstime();
    for (int i = 0; i < nstreams; i++) {
        kref r;
        /* a second lookup, as Redis's (hits and misses count it again), except when serving a waiter */
        if (!db_lookup(c->db, keys[i].p, keys[i].len, reproc ? LOOKUP_NOSTATS | LOOKUP_NOTOUCH : 0, &r) ||
            e_type(r.e) != OBJ_STREAM)
            continue;
        stream *s = e_ptr(r.e);
        sgroup *g = NULL;
        sid gt = ids[i];
        int serve = 0, history = 0;
        if (group_mode) {
            g = stream_group_find(s, gname->p, gname->len);
            if (!g) { /* only when re-executed: the group was destroyed while we waited */
                reply_error(c, "NOGROUP the consumer group this client was blocked on no longer exists");
                goto done;
            }
        }
        if (reproc) {
            if (g) gt = g->last_id;
            serve = sid_cmp(&s->last_id, &gt) > 0;
        } else if (g) {
            if (!is_new[i]) {
                serve = history = 1;
            } else if (s->length) {
                sid maxid;
                stream_last_valid(s, &maxid);
                if (sid_cmp(&maxid, &g->last_id) > 0) {
                    serve = 1;
                    gt = g->last_id;
                }
            }
        } else if (s->length) {
            sid maxid;
            stream_last_valid(s, &maxid);
            serve = sid_cmp(&maxid, &gt) > 0;
        }
        if (!serve) continue;
        if (served++ == 0) pos = reply_defer(c);
        sid start = gt;
        sid_incr(&start);
        if (c->resp < 3) reply_array(c, 2);
        reply_bulk(c, keys[i].p, keys[i].len);
        size_t cnt = (size_t)count;
        if (reproc && !cnt) cnt = XREAD_BLOCKED_DEFAULT_COUNT;
        if (g) {
            sconsumer *cons = stream_consumer_find(g, cname->p, cname->len);
            prop_prevent(c); /* XREADGROUP propagates what it did to the group, as Redis does */
            long long mark = dirty_mark(), created = !cons;
            if (cons) {
                cons->seen_time = now;
            } else {
                cons = stream_consumer_create(g, cname->p, cname->len, now);
                propagate_consumer_creation(c, &keys[i], g, cname);
            }
            sid before = g->last_id;
            if (history) reply_consumer_history(c, s, &start, cnt, g, cons, &keys[i], cname);
            else reply_group_range(c, s, &start, cnt, g, cons, noack, &keys[i], cname);
            if (sid_cmp(&before, &g->last_id) != 0) propagate_group_position(c, &keys[i], g);
            key_changed(c, &keys[i], FX_STREAM, "xgroup-createconsumer");
            dirty_count(mark, 1 + created); /* Redis: the read, and the consumer it created */
        } else {
            size_t p2 = reply_defer(c), n = 0;
            stream_iter it;
            sid id;
            int64_t nf;
            stream_iter_start(&it, s, &start, NULL, 0);
            while ((!cnt || n < cnt) && stream_iter_next(&it, &id, &nf)) {
                reply_entry(c, &it, &id, nf);
                n++;
            }
            stream_iter_done(&it);
            reply_defer_set(c, p2, (long)n, '*');
        }
        if (reproc) break; /* a blocked client is served from one key */
    }
    if (served) {
        reply_defer_set(c, pos, served, c->resp < 3 ? '*' : '%');
        goto done;
    }
    if (timeout != -1) {
        if (!blocking_allowed(c)) {
            reply_null_array(c);
            goto done;
        }
        /* The saved command must wait for entries after the IDs resolved now: "$" becomes the last ID. */
        arg saved[8], *sv = nstreams <= 8 ? saved : s_malloc(sizeof(arg) * (size_t)nstreams);
        char (*bufs)[SID_MAX_STR] = s_malloc((size_t)nstreams * SID_MAX_STR);
        for (int i = 0; i < nstreams; i++) {
            arg *ida = &c->argv[streams_arg + nstreams + i];
            sv[i] = *ida;
            if (!reproc && same_arg(ida, "$")) {
                ida->len = (size_t)sid_format(bufs[i], &ids[i]);
                ida->p = bufs[i];
            }
        }
        block_for_keys(c, keys, nstreams, deadline, BLOCK_TIMEOUT_NULL_ARRAY);
        for (int i = 0; i < nstreams; i++) c->argv[streams_arg + nstreams + i] = sv[i];
        s_free(bufs);
        if (sv != saved) s_free(sv);
        goto done;
    }
    reply_null_array(c);
done:
    if (ids != stackids) s_free(ids);
    if (is_new != stackgt) s_free(is_new);
}

void cmd_xread(client *c) { read_generic(c, 0); }
void cmd_xreadgroup(client *c) { read_generic(c, 1); }

/* ---- XGROUP ---- */

/* The common part of the XGROUP subcommands: options of CREATE/SETID, the key and the group.
 * Returns 0 after replying an error. */
static int xgroup_prepare(client *c, int create, int setid, int need_group, stream **s, sgroup **g, int *mkstream,
                          long long *entries_read) {
    *mkstream = 0;
    *entries_read = STREAM_ENTRIES_READ_INVALID;
    if (create || setid) {
        for (int i = 5; i < c->argc;) {
            if (create && arg_is(&c->argv[i], "mkstream")) {
                *mkstream = 1;
                i++;
            } else if (arg_is(&c->argv[i], "entriesread") && i + 1 < c->argc) {
                if (!arg_ll(c, &c->argv[i + 1], entries_read, NULL)) return 0;
                if (*entries_read < 0 && *entries_read != STREAM_ENTRIES_READ_INVALID) {
                    reply_error(c, "ERR value for ENTRIESREAD must be positive or -1");
                    return 0;
                }
                i += 2;
            } else {
                reply_subcommand_syntax(c, "XGROUP");
                return 0;
            }
        }
    }
    kref r;
    *s = NULL;
    int f = get_stream(c, &c->argv[2], LOOKUP_NOSTATS, &r, s);
    if (f < 0) return 0;
    if (!f && !*mkstream) {
        reply_error(c, "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to "
                       "use the MKSTREAM option to create an empty stream automatically.");
        return 0;
    }
    *g = *s ? stream_group_find(*s, c->argv[3].p, c->argv[3].len) : NULL;
    if (need_group && !*g) {
        reply_errorf(c, "NOGROUP No such consumer group '%.*s' for key name '%.*s'", (int)c->argv[3].len,
                     c->argv[3].p, (int)c->argv[2].len, c->argv[2].p);
        return 0;
    }
    return 1;
}

void cmd_xgroup_create(client *c) {
    stream *s;
    sgroup *g;
    int mk;
    long long er;
    if (!xgroup_prepare(c, 1, 0, 0, &s, &g, &mk, &er)) return;
    if (c->argc > 8) {
        reply_subcommand_syntax(c, "XGROUP");
        return;
    }
    sid id;
    if (same_arg(&c->argv[4], "$")) id = s ? s->last_id : SID_MIN;
    else if (!parse_strict_id(c, &c->argv[4], &id)) return;
    const arg *k = &c->argv[2];
    long long mark = dirty_mark(); /* Redis: one change, the group (a stream MKSTREAM made included) */
    if (!s) {
        s = stream_new();
        kref r;
        db_lookup(c->db, k->p, k->len, LOOKUP_NOSTATS | LOOKUP_NOTOUCH, &r);
        entry_value v = {.type = OBJ_STREAM, .store = VAL_PTR, .ptr = s};
        db_set_value_at(&r, k->p, k->len, &v, -1);
    }
    if (stream_group_create(s, c->argv[3].p, c->argv[3].len, &id, er)) {
        key_changed(c, k, FX_STREAM, "xgroup-create");
        dirty_count(mark, 1);
        reply_ok(c);
    } else {
        reply_error(c, "BUSYGROUP Consumer Group name already exists");
    }
}

void cmd_xgroup_setid(client *c) {
    stream *s;
    sgroup *g;
    int mk;
    long long er;
    if (!xgroup_prepare(c, 0, 1, 1, &s, &g, &mk, &er)) return;
    if (c->argc != 5 && c->argc != 7) {
        reply_subcommand_syntax(c, "XGROUP");
        return;
    }
    sid id;
    if (same_arg(&c->argv[4], "$")) id = s->last_id;
    else if (!parse_id(c, &c->argv[4], &id, 0, 0, NULL)) return;
    g->last_id = id;
    g->entries_read = er;
    key_changed(c, &c->argv[2], FX_STREAM, "xgroup-setid");
    reply_ok(c);
}

void cmd_xgroup_destroy(client *c) {
    stream *s;
    sgroup *g;
    int mk;
    long long er;
    if (!xgroup_prepare(c, 0, 0, 0, &s, &g, &mk, &er)) return;
    if (!g) {
        reply_int(c, 0);
        return;
    }
    stream_group_destroy(s, g);
    key_changed(c, &c->argv[2], FX_STREAM, "xgroup-destroy");
    fx_ready(c->db, c->argv[2].p, c->argv[2].len); /* blocked XREADGROUPs get -NOGROUP */
    reply_int(c, 1);
}

void cmd_xgroup_createconsumer(client *c) {
    stream *s;
    sgroup *g;
    int mk;
    long long er;
    if (!xgroup_prepare(c, 0, 0, 1, &s, &g, &mk, &er)) return;
    int created = stream_consumer_create(g, c->argv[4].p, c->argv[4].len, mstime()) != NULL;
    if (created) key_changed(c, &c->argv[2], FX_STREAM, "xgroup-createconsumer");
    reply_int(c, created);
}

void cmd_xgroup_delconsumer(client *c) {
    stream *s;
    sgroup *g;
    int mk;
    long long er;
    if (!xgroup_prepare(c, 0, 0, 1, &s, &g, &mk, &er)) return;
    sconsumer *cons = stream_consumer_find(g, c->argv[4].p, c->argv[4].len);
    long long pending = 0;
    if (cons) {
        pending = (long long)stream_consumer_delete(g, cons);
        key_changed(c, &c->argv[2], FX_STREAM, "xgroup-delconsumer");
    }
    reply_int(c, pending);
}

static void reply_lines(client *c, const char **lines) {
    long n = 0;
    while (lines[n]) n++;
    reply_array(c, n);
    for (long i = 0; i < n; i++) reply_status(c, lines[i]);
}

void cmd_xgroup_help(client *c) {
    static const char *lines[] = {
        "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CREATE <key> <groupname> <id|$> [option]",
        "    Create a new consumer group. Options are:",
        "    * MKSTREAM",
        "      Create the empty stream if it does not exist.",
        "    * ENTRIESREAD entries_read",
        "      Set the group's entries_read counter (internal use).",
        "CREATECONSUMER <key> <groupname> <consumer>",
        "    Create a new consumer in the specified group.",
        "DELCONSUMER <key> <groupname> <consumer>",
        "    Remove the specified consumer.",
        "DESTROY <key> <groupname>",
        "    Remove the specified group.",
        "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
        "    Set the current group ID and entries_read counter.",
        "HELP",
        "    Prints this help.",
        NULL};
    reply_lines(c, lines);
}

/* ---- XSETID ---- */

void cmd_xsetid(client *c) {
    sid id, maxdel = {0, 0};
    long long added = -1;
    if (!parse_strict_id(c, &c->argv[2], &id)) return;
    for (int i = 3; i < c->argc;) {
        int more = c->argc - 1 - i;
        if (arg_is(&c->argv[i], "entriesadded") && more) {
            if (!arg_ll(c, &c->argv[i + 1], &added, NULL)) return;
            if (added < 0) {
                reply_error(c, "ERR entries_added must be positive");
                return;
            }
            i += 2;
        } else if (arg_is(&c->argv[i], "maxdeletedid") && more) {
            if (!parse_strict_id(c, &c->argv[i + 1], &maxdel)) return;
            if (sid_cmp(&id, &maxdel) < 0) {
                reply_error(c, "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id");
                return;
            }
            i += 2;
        } else {
            reply_syntax_error(c);
            return;
        }
    }
    kref r;
    stream *s;
    int f = get_stream(c, &c->argv[1], LOOKUP_NOSTATS, &r, &s);
    if (f <= 0) {
        if (!f) reply_error(c, "ERR no such key");
        return;
    }
    if (s->length > 0) {
        sid maxid;
        stream_last_valid(s, &maxid);
        if (sid_cmp(&id, &maxid) < 0) {
            reply_error(c, "ERR The ID specified in XSETID is smaller than the target stream top item");
            return;
        }
        if (added != -1 && s->length > (uint64_t)added) {
            reply_error(c, "ERR The entries_added specified in XSETID is smaller than the target stream length");
            return;
        }
    }
    s->last_id = id;
    if (added != -1) s->entries_added = (uint64_t)added;
    if (!sid_is_zero(&maxdel)) s->max_deleted_id = maxdel;
    key_changed(c, &c->argv[1], FX_STREAM, "xsetid");
    reply_ok(c);
}

/* ---- XACK / XPENDING / XCLAIM / XAUTOCLAIM ---- */

void cmd_xack(client *c) {
    kref r;
    stream *s;
    int f = get_stream(c, &c->argv[1], 0, &r, &s);
    if (f < 0) return;
    sgroup *g = f ? stream_group_find(s, c->argv[2].p, c->argv[2].len) : NULL;
    if (!g) {
        reply_int(c, 0);
        return;
    }
    int n = c->argc - 3;
    sid stackids[16], *ids = n <= 16 ? stackids : s_malloc(sizeof(sid) * (size_t)n);
    for (int j = 0; j < n; j++)
        if (!parse_strict_id(c, &c->argv[j + 3], &ids[j])) goto done;
    long long acked = 0;
    for (int j = 0; j < n; j++) {
        if (!stream_pel_find(g, &ids[j])) continue;
        stream_pel_remove(g, &ids[j]);
        acked++;
    }
    if (acked) key_changed(c, &c->argv[1], FX_STREAM, NULL);
    reply_int(c, acked);
done:
    if (ids != stackids) s_free(ids);
}

void cmd_xpending(client *c) {
    int justinfo = c->argc == 3;
    sid start = {0, 0}, end = {0, 0};
    long long count = 0, minidle = 0;
    const arg *cname = NULL;
    if (c->argc != 3 && (c->argc < 6 || c->argc > 9)) {
        reply_syntax_error(c);
        return;
    }
    if (c->argc >= 6) {
        int si = 3, sx, ex;
        if (arg_is(&c->argv[3], "idle")) {
            if (!arg_ll(c, &c->argv[4], &minidle, NULL)) return;
            if (c->argc < 8) {
                reply_syntax_error(c);
                return;
            }
            si += 2;
        }
        if (!arg_ll(c, &c->argv[si + 2], &count, NULL)) return;
        if (count < 0) count = 0;
        if (!parse_interval_id(c, &c->argv[si], &start, &sx, 0)) return;
        if (sx && !sid_incr(&start)) {
            reply_error(c, "ERR invalid start ID for the interval");
            return;
        }
        if (!parse_interval_id(c, &c->argv[si + 1], &end, &ex, UINT64_MAX)) return;
        if (ex && !sid_decr(&end)) {
            reply_error(c, "ERR invalid end ID for the interval");
            return;
        }
        if (si + 3 < c->argc) cname = &c->argv[si + 3];
    }
    kref r;
    stream *s;
    int f = get_stream(c, &c->argv[1], 0, &r, &s);
    if (f < 0) return;
    sgroup *g = f ? stream_group_find(s, c->argv[2].p, c->argv[2].len) : NULL;
    if (!g) {
        reply_errorf(c, "NOGROUP No such key '%.*s' or consumer group '%.*s'", (int)c->argv[1].len, c->argv[1].p,
                     (int)c->argv[2].len, c->argv[2].p);
        return;
    }
    if (justinfo) {
        reply_array(c, 4);
        reply_int(c, (long long)g->pel.count);
        if (!g->pel.count) {
            reply_null(c);
            reply_null(c);
            reply_null_array(c);
            return;
        }
        sidx_cur cur;
        sidx_first(&g->pel, &cur);
        reply_id(c, &((spel *)sidx_at(&g->pel, &cur))->id);
        sidx_last(&g->pel, &cur);
        reply_id(c, &((spel *)sidx_at(&g->pel, &cur))->id);
        long n = 0;
        for (uint32_t i = 0; i < g->ncons; i++) n += g->cons[i]->pel.count != 0;
        reply_array(c, n);
        for (uint32_t i = 0; i < g->ncons; i++) {
            sconsumer *cs = g->cons[i];
            if (!cs->pel.count) continue;
            reply_array(c, 2);
            reply_bulk(c, cs->name, cs->nlen);
            reply_bulk_ll(c, (long long)cs->pel.count);
        }
        return;
    }
    sconsumer *cons = NULL;
    if (cname) {
        cons = stream_consumer_find(g, cname->p, cname->len);
        if (!cons) {
            reply_array(c, 0);
            return;
        }
    }
    long long now = mstime();
    size_t pos = reply_defer(c);
    long n = 0;
    sidx *pel = cons ? &cons->pel : &g->pel;
    sidx_cur cur;
    for (int ok = count ? sidx_seek_ge(pel, &start, &cur) : 0; ok && count; ok = sidx_next(pel, &cur)) {
        sid id = *(sid *)sidx_at(pel, &cur);
        if (sid_cmp(&id, &end) > 0) break;
        spel *p = cons ? stream_pel_find(g, &id) : sidx_at(pel, &cur);
        if (minidle && now - p->delivery_time < minidle) continue;
        n++;
        count--;
        reply_array(c, 4);
        reply_id(c, &id);
        reply_bulk(c, p->owner->name, p->owner->nlen);
        long long elapsed = now - p->delivery_time;
        reply_int(c, elapsed < 0 ? 0 : elapsed);
        reply_int(c, (long long)p->delivery_count);
    }
    reply_defer_set(c, pos, n, '*');
}

/* The claiming consumer, created if needed (*created: one more change, as Redis counts it). */
static sconsumer *claim_consumer(sgroup *g, const arg *name, long long now, long long *created) {
    sconsumer *cons = stream_consumer_find(g, name->p, name->len);
    if (cons) {
        cons->seen_time = now;
    } else {
        cons = stream_consumer_create(g, name->p, name->len, now);
        (*created)++;
    }
    return cons;
}

void cmd_xclaim(client *c) {
    kref r;
    stream *s;
    int f = get_stream(c, &c->argv[1], 0, &r, &s);
    if (f < 0) return;
    sgroup *g = f ? stream_group_find(s, c->argv[2].p, c->argv[2].len) : NULL;
    if (!g) {
        reply_errorf(c, "NOGROUP No such key '%.*s' or consumer group '%.*s'", (int)c->argv[1].len, c->argv[1].p,
                     (int)c->argv[2].len, c->argv[2].p);
        return;
    }
    long long minidle, retrycount = -1, deliverytime = -1;
    int force = 0, justid = 0;
    if (!arg_ll(c, &c->argv[4], &minidle, "ERR Invalid min-idle-time argument for XCLAIM")) return;
    if (minidle < 0) minidle = 0;
    int j;
    for (j = 5; j < c->argc; j++) {
        sid tmp;
        if (!parse_strict_id(NULL, &c->argv[j], &tmp)) break;
    }
    int last_id_arg = j - 1;
    long long now = mstime();
    sid last_id = {0, 0};
    for (; j < c->argc; j++) {
        int more = c->argc - 1 - j;
        const arg *o = &c->argv[j];
        if (arg_is(o, "force")) {
            force = 1;
        } else if (arg_is(o, "justid")) {
            justid = 1;
        } else if (arg_is(o, "idle") && more) {
            j++;
            if (!arg_ll(c, &c->argv[j], &deliverytime, "ERR Invalid IDLE option argument for XCLAIM")) return;
            deliverytime = now - deliverytime;
        } else if (arg_is(o, "time") && more) {
            j++;
            if (!arg_ll(c, &c->argv[j], &deliverytime, "ERR Invalid TIME option argument for XCLAIM")) return;
        } else if (arg_is(o, "retrycount") && more) {
            j++;
            if (!arg_ll(c, &c->argv[j], &retrycount, "ERR Invalid RETRYCOUNT option argument for XCLAIM")) return;
        } else if (arg_is(o, "lastid") && more) {
            j++;
            if (!parse_strict_id(c, &c->argv[j], &last_id)) return;
        } else {
            reply_errorf(c, "ERR Unrecognized XCLAIM option '%.*s'", (int)o->len, o->p);
            return;
        }
    }
    /* Redis's count: one per PEL entry claimed or dropped, one for a consumer created, one for the group's
     * last ID when it moved and nothing else was propagated. */
    long long changes = 0, last_id_moved = 0;
    prop_prevent(c); /* propagated as the PEL entries it changed, in Redis's form */
    if (sid_cmp(&last_id, &g->last_id) > 0) {
        g->last_id = last_id;
        last_id_moved = 1;
        propagate_group_position(c, &c->argv[1], g);
    }
    if (deliverytime != -1) {
        if (deliverytime < 0 || deliverytime > now) deliverytime = now;
    } else {
        deliverytime = now;
    }
    sconsumer *cons = NULL;
    size_t pos = reply_defer(c);
    long n = 0;
    for (j = 5; j <= last_id_arg; j++) {
        sid id;
        parse_strict_id(NULL, &c->argv[j], &id);
        spel *p = stream_pel_find(g, &id);
        if (!stream_entry_exists(s, &id)) {
            if (p) {
                stream_pel_remove(g, &id);
                propagate_claim(c, &c->argv[1], g, &c->argv[3], &id, NULL);
                changes++;
                last_id_moved = 0;
            }
            continue;
        }
        if (force && !p) {
            p = stream_pel_add(g, &id, NULL);
            p->delivery_time = now;
            p->delivery_count = 1;
        }
        if (!p) continue;
        if (p->owner && minidle && now - p->delivery_time < minidle) continue;
        if (!cons) cons = claim_consumer(g, &c->argv[3], now, &changes);
        p->delivery_time = deliverytime;
        if (retrycount >= 0) p->delivery_count = (uint64_t)retrycount;
        else if (!justid) p->delivery_count++;
        stream_pel_assign(g, p, cons);
        propagate_claim(c, &c->argv[1], g, &c->argv[3], &id, p);
        if (justid) reply_id(c, &id);
        else if (!reply_one(c, s, &id)) reply_null_array(c);
        n++;
        changes++;
        last_id_moved = 0;
    }
    reply_defer_set(c, pos, n, '*');
    changes += last_id_moved;
    if (changes) {
        long long mark = dirty_mark();
        key_changed(c, &c->argv[1], FX_STREAM, "xclaim");
        dirty_count(mark, changes);
    }
}

void cmd_xautoclaim(client *c) {
    long long minidle, count = 100;
    sid start;
    int sx, justid = 0;
    if (!arg_ll(c, &c->argv[4], &minidle, "ERR Invalid min-idle-time argument for XAUTOCLAIM")) return;
    if (minidle < 0) minidle = 0;
    if (!parse_interval_id(c, &c->argv[5], &start, &sx, 0)) return;
    if (sx && !sid_incr(&start)) {
        reply_error(c, "ERR invalid start ID for the interval");
        return;
    }
    for (int j = 6; j < c->argc; j++) {
        int more = c->argc - 1 - j;
        if (arg_is(&c->argv[j], "count") && more) {
            if (!arg_ll_range(c, &c->argv[j + 1], &count, 1, LONG_MAX / 10, "ERR COUNT must be > 0")) return;
            j++;
        } else if (arg_is(&c->argv[j], "justid")) {
            justid = 1;
        } else {
            reply_syntax_error(c);
            return;
        }
    }
    kref r;
    stream *s;
    int f = get_stream(c, &c->argv[1], 0, &r, &s);
    if (f < 0) return;
    sgroup *g = f ? stream_group_find(s, c->argv[2].p, c->argv[2].len) : NULL;
    if (!g) {
        reply_errorf(c, "NOGROUP No such key '%.*s' or consumer group '%.*s'", (int)c->argv[1].len, c->argv[1].p,
                     (int)c->argv[2].len, c->argv[2].p);
        return;
    }
    long long attempts = count * 10, now = mstime();
    sid *claimed = NULL, *deleted = NULL;
    size_t nclaimed = 0, ndel = 0, cap = 0;
    long long created = 0;
    prop_prevent(c); /* propagated as the PEL entries it changed, as XCLAIMs */
    sidx_cur cur;
    int ok = sidx_seek_ge(&g->pel, &start, &cur);
    /* Redis's loop: every examined entry costs an attempt; a claimed or deleted one also costs count. */
    while (attempts-- && count && ok) {
        spel *p = sidx_at(&g->pel, &cur);
        sid id = p->id;
        if (nclaimed + ndel == cap) {
            cap = cap ? cap * 2 : 8;
            claimed = s_realloc(claimed, cap * sizeof(sid));
            deleted = s_realloc(deleted, cap * sizeof(sid));
        }
        if (!stream_entry_exists(s, &id)) {
            stream_pel_remove(g, &id);
            propagate_claim(c, &c->argv[1], g, &c->argv[3], &id, NULL);
            deleted[ndel++] = id;
            count--;
            ok = sidx_seek_ge(&g->pel, &id, &cur);
            continue;
        }
        if (minidle && now - p->delivery_time < minidle) {
            ok = sidx_next(&g->pel, &cur);
            continue;
        }
        sconsumer *cons = claim_consumer(g, &c->argv[3], now, &created);
        p->delivery_time = now;
        if (!justid) p->delivery_count++;
        stream_pel_assign(g, p, cons);
        propagate_claim(c, &c->argv[1], g, &c->argv[3], &id, p);
        claimed[nclaimed++] = id;
        count--;
        ok = sidx_next(&g->pel, &cur);
    }
    /* the cursor: the entry after the last one examined, 0-0 at the end */
    sid next = {0, 0};
    if (ok) next = ((spel *)sidx_at(&g->pel, &cur))->id;
    reply_array(c, 3);
    reply_id(c, &next);
    reply_array(c, (long)nclaimed);
    for (size_t i = 0; i < nclaimed; i++) {
        if (justid) reply_id(c, &claimed[i]);
        else if (!reply_one(c, s, &claimed[i])) reply_null_array(c);
    }
    reply_array(c, (long)ndel);
    for (size_t i = 0; i < ndel; i++) reply_id(c, &deleted[i]);
    s_free(claimed);
    s_free(deleted);
    /* Redis's count: one per PEL entry claimed or dropped, one for the consumer if it was created */
    long long changes = (long long)(nclaimed + ndel) + created;
    if (changes) {
        long long mark = dirty_mark();
        key_changed(c, &c->argv[1], FX_STREAM, "xautoclaim");
        dirty_count(mark, changes);
    }
}

/* ---- XINFO ---- */

static void reply_pel_entry_time(client *c, long long t) { reply_int(c, t); }

void cmd_xinfo_stream(client *c) {
    kref r;
    stream *s;
    int f = get_stream(c, &c->argv[2], 0, &r, &s);
    if (f <= 0) {
        if (!f) reply_error(c, "ERR no such key");
        return;
    }
    int full = 0;
    long long count = 10;
    int extra = c->argc - 3;
    if (extra) {
        if (!arg_is(&c->argv[3], "full")) {
            reply_subcommand_syntax(c, "XINFO");
            return;
        }
        full = 1;
        if (extra > 1) {
            if (extra != 3 || !arg_is(&c->argv[4], "count")) {
                reply_subcommand_syntax(c, "XINFO");
                return;
            }
            if (!arg_ll(c, &c->argv[5], &count, NULL)) return;
            if (count < 0) count = 10;
        }
    }
    reply_map(c, full ? 9 : 10);
    reply_bulk_cstr(c, "length");
    reply_int(c, (long long)s->length);
    reply_bulk_cstr(c, "radix-tree-keys");
    reply_int(c, (long long)s->nodes.count);
    reply_bulk_cstr(c, "radix-tree-nodes");
    reply_int(c, (long long)stream_rax_nodes(s));
    reply_bulk_cstr(c, "last-generated-id");
    reply_id(c, &s->last_id);
    reply_bulk_cstr(c, "max-deleted-entry-id");
    reply_id(c, &s->max_deleted_id);
    reply_bulk_cstr(c, "entries-added");
    reply_int(c, (long long)s->entries_added);
    reply_bulk_cstr(c, "recorded-first-entry-id");
    reply_id(c, &s->first_id);
    if (!full) {
        reply_bulk_cstr(c, "groups");
        reply_int(c, s->ngroups);
        for (int rev = 0; rev < 2; rev++) {
            reply_bulk_cstr(c, rev ? "last-entry" : "first-entry");
            stream_iter it;
            sid id;
            int64_t nf;
            stream_iter_start(&it, s, NULL, NULL, rev);
            if (stream_iter_next(&it, &id, &nf)) reply_entry(c, &it, &id, nf);
            else reply_null(c);
            stream_iter_done(&it);
        }
        return;
    }
    reply_bulk_cstr(c, "entries");
    {
        size_t pos = reply_defer(c);
        long n = 0;
        stream_iter it;
        sid id;
        int64_t nf;
        stream_iter_start(&it, s, NULL, NULL, 0);
        while ((!count || n < count) && stream_iter_next(&it, &id, &nf)) {
            reply_entry(c, &it, &id, nf);
            n++;
        }
        stream_iter_done(&it);
        reply_defer_set(c, pos, n, '*');
    }
    reply_bulk_cstr(c, "groups");
    reply_array(c, s->ngroups);
    for (uint32_t gi = 0; gi < s->ngroups; gi++) {
        sgroup *g = s->groups[gi];
        reply_map(c, 7);
        reply_bulk_cstr(c, "name");
        reply_bulk(c, g->name, g->nlen);
        reply_bulk_cstr(c, "last-delivered-id");
        reply_id(c, &g->last_id);
        reply_bulk_cstr(c, "entries-read");
        if (g->entries_read != STREAM_ENTRIES_READ_INVALID) reply_int(c, g->entries_read);
        else reply_null(c);
        reply_bulk_cstr(c, "lag");
        long long lag;
        if (stream_group_lag(s, g, &lag)) reply_int(c, lag);
        else reply_null(c);
        reply_bulk_cstr(c, "pel-count");
        reply_int(c, (long long)g->pel.count);
        reply_bulk_cstr(c, "pending");
        long long n = (long long)g->pel.count;
        if (count && n > count) n = count;
        reply_array(c, n);
        sidx_cur cur;
        int ok = sidx_first(&g->pel, &cur);
        for (long long i = 0; i < n && ok; i++, ok = sidx_next(&g->pel, &cur)) {
            spel *p = sidx_at(&g->pel, &cur);
            reply_array(c, 4);
            reply_id(c, &p->id);
            reply_bulk(c, p->owner->name, p->owner->nlen);
            reply_pel_entry_time(c, p->delivery_time);
            reply_int(c, (long long)p->delivery_count);
        }
        reply_bulk_cstr(c, "consumers");
        reply_array(c, g->ncons);
        for (uint32_t ci = 0; ci < g->ncons; ci++) {
            sconsumer *cs = g->cons[ci];
            reply_map(c, 4);
            reply_bulk_cstr(c, "name");
            reply_bulk(c, cs->name, cs->nlen);
            reply_bulk_cstr(c, "seen-time");
            reply_int(c, cs->seen_time);
            reply_bulk_cstr(c, "pel-count");
            reply_int(c, (long long)cs->pel.count);
            reply_bulk_cstr(c, "pending");
            long long m = (long long)cs->pel.count;
            if (count && m > count) m = count;
            reply_array(c, m);
            ok = sidx_first(&cs->pel, &cur);
            for (long long i = 0; i < m && ok; i++, ok = sidx_next(&cs->pel, &cur)) {
                sid id = *(sid *)sidx_at(&cs->pel, &cur);
                spel *p = stream_pel_find(g, &id);
                reply_array(c, 3);
                reply_id(c, &id);
                reply_pel_entry_time(c, p->delivery_time);
                reply_int(c, (long long)p->delivery_count);
            }
        }
    }
}

void cmd_xinfo_groups(client *c) {
    kref r;
    stream *s;
    int f = get_stream(c, &c->argv[2], 0, &r, &s);
    if (f <= 0) {
        if (!f) reply_error(c, "ERR no such key");
        return;
    }
    reply_array(c, s->ngroups);
    for (uint32_t i = 0; i < s->ngroups; i++) {
        sgroup *g = s->groups[i];
        reply_map(c, 6);
        reply_bulk_cstr(c, "name");
        reply_bulk(c, g->name, g->nlen);
        reply_bulk_cstr(c, "consumers");
        reply_int(c, g->ncons);
        reply_bulk_cstr(c, "pending");
        reply_int(c, (long long)g->pel.count);
        reply_bulk_cstr(c, "last-delivered-id");
        reply_id(c, &g->last_id);
        reply_bulk_cstr(c, "entries-read");
        if (g->entries_read != STREAM_ENTRIES_READ_INVALID) reply_int(c, g->entries_read);
        else reply_null(c);
        reply_bulk_cstr(c, "lag");
        long long lag;
        if (stream_group_lag(s, g, &lag)) reply_int(c, lag);
        else reply_null(c);
    }
}

void cmd_xinfo_consumers(client *c) {
    kref r;
    stream *s;
    int f = get_stream(c, &c->argv[2], 0, &r, &s);
    if (f <= 0) {
        if (!f) reply_error(c, "ERR no such key");
        return;
    }
    sgroup *g = stream_group_find(s, c->argv[3].p, c->argv[3].len);
    if (!g) {
        reply_errorf(c, "NOGROUP No such consumer group '%.*s' for key name '%.*s'", (int)c->argv[3].len,
                     c->argv[3].p, (int)c->argv[2].len, c->argv[2].p);
        return;
    }
    long long now = mstime();
    reply_array(c, g->ncons);
    for (uint32_t i = 0; i < g->ncons; i++) {
        sconsumer *cs = g->cons[i];
        long long idle = now - cs->seen_time;
        reply_map(c, 3);
        reply_bulk_cstr(c, "name");
        reply_bulk(c, cs->name, cs->nlen);
        reply_bulk_cstr(c, "pending");
        reply_int(c, (long long)cs->pel.count);
        reply_bulk_cstr(c, "idle");
        reply_int(c, idle < 0 ? 0 : idle);
    }
}

void cmd_xinfo_help(client *c) {
    static const char *lines[] = {
        "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CONSUMERS <key> <groupname>",
        "    Show consumers of <groupname>.",
        "GROUPS <key>",
        "    Show the stream consumer groups.",
        "STREAM <key> [FULL [COUNT <count>]",
        "    Show information about the stream.",
        "HELP",
        "    Prints this help.",
        NULL};
    reply_lines(c, lines);
}

/* ---- the command table ---- */


static command xgroup_subs[] = {
    {"create", cmd_xgroup_create},
    {"setid", cmd_xgroup_setid},
    {"destroy", cmd_xgroup_destroy},
    {"createconsumer", cmd_xgroup_createconsumer},
    {"delconsumer", cmd_xgroup_delconsumer},
    {"help", cmd_xgroup_help},
    {0}};

static command xinfo_subs[] = {
    {"stream", cmd_xinfo_stream},
    {"groups", cmd_xinfo_groups},
    {"consumers", cmd_xinfo_consumers},
    {"help", cmd_xinfo_help},
    {0}};

command stream_commands[] = {
    {"xadd", cmd_xadd},
    {"xlen", cmd_xlen},
    {"xrange", cmd_xrange},
    {"xrevrange", cmd_xrevrange},
    {"xdel", cmd_xdel},
    {"xtrim", cmd_xtrim},
    {"xread", cmd_xread},
    {"xreadgroup", cmd_xreadgroup},
    {"xack", cmd_xack},
    {"xpending", cmd_xpending},
    {"xclaim", cmd_xclaim},
    {"xautoclaim", cmd_xautoclaim},
    {"xsetid", cmd_xsetid},
    {"xgroup", NULL, xgroup_subs},
    {"xinfo", NULL, xinfo_subs},
    {0}};
