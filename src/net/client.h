/* client: one connection's state.
 *
 * Input: bytes are read into qbuf; the parser (protocol/request.c) resumes
 * where it stopped and records argument offsets relative to the start of the
 * current command, so qbuf may be reallocated or compacted between reads.
 * Arguments point into qbuf while the command runs (zero copy); anything kept
 * beyond one command (MULTI's queue) is copied.
 *
 * Output: replies are appended to obuf and written once per event loop
 * iteration for every client that has output (before epoll_wait), so a
 * pipeline of N commands costs one write.  The output limits of the client's
 * class are checked on every append past the first 16 KiB and by the cron, so
 * a client that stays above the soft limit without growing is still closed.
 *
 * A command held by CLIENT PAUSE keeps its parsed form (argument offsets
 * relative to qstart, CLIENT_PENDING_COMMAND) and runs as it is when the pause
 * ends: the parser rewrites inline commands in place, so parsing again would
 * read altered bytes.
 *
 * Unauthenticated clients: besides the parser's limits (request.h), they are
 * not read while more than UNAUTH_OUTPUT_MAX bytes of replies wait for them,
 * so a client that cannot run commands cannot make the server hold more than
 * a few KB of input or output for it. */
#ifndef SARDINE_CLIENT_H
#define SARDINE_CLIENT_H
#include <stddef.h>
#include <stdint.h>
#include "keyspace/db.h"

struct dict;
struct tls_conn;

enum {
    CLIENT_CLOSE_ASAP = 1 << 0,
    CLIENT_CLOSE_AFTER_REPLY = 1 << 1,
    CLIENT_MULTI = 1 << 2,
    CLIENT_DIRTY_CAS = 1 << 3,
    CLIENT_DIRTY_EXEC = 1 << 4,
    CLIENT_PENDING_WRITE = 1 << 5,
    CLIENT_AUTHENTICATED = 1 << 6,
    CLIENT_UNIX = 1 << 7,
    CLIENT_NO_EVICT = 1 << 8,
    CLIENT_REPLY_OFF = 1 << 9,
    CLIENT_REPLY_SKIP_NEXT = 1 << 10,
    CLIENT_REPLY_SKIP = 1 << 11,
    CLIENT_PAUSED = 1 << 12,
    CLIENT_WRITE_HANDLER = 1 << 13,
    CLIENT_EXECUTING = 1 << 14,
    CLIENT_NO_TOUCH = 1 << 15,
    CLIENT_BLOCKED = 1 << 16,       /* waiting on keys (features/blocking.h) */
    CLIENT_REPROCESSING = 1 << 17,  /* a blocked command being executed again */
    CLIENT_PENDING_COMMAND = 1 << 18, /* parsed, held by CLIENT PAUSE: run as it is, never parsed again */
    CLIENT_READ_PAUSED = 1 << 19,   /* unauthenticated with output pending: not reading until it drains */
    CLIENT_APPLY_STREAM = 1 << 20,  /* applies a propagated stream: keys never expire under it */
    CLIENT_PROTECTED = 1 << 21,     /* its command runs the loop from inside (a busy script): not read, written or freed */
    CLIENT_PUBSUB = 1 << 22,        /* has subscriptions (features/pubsub.h): the pubsub output class, RESP2 subscriber mode */
    CLIENT_PUSHING = 1 << 23,       /* a push message is being written: sent even under CLIENT REPLY OFF/SKIP, as Redis */
    CLIENT_QBUF_PINNED = 1 << 29,   /* qbuf neither moves nor grows (client_pin_qbuf): another thread reads it */
    CLIENT_BGWAIT = 1 << 30,        /* its command waits for work on another thread (a big RESTORE): input is read, not run */
};

/* client->xflags: more flags, the int above being full. */
enum {
    CLIENT_TRACKING = 1 << 0,       /* client-side caching on (features/tracking.h) */
    CLIENT_TRACKING_BROKEN_REDIR = 1 << 1, /* its redirect target went away */
    CLIENT_TRACKING_BCAST = 1 << 2, /* tracking in BCAST mode */
    CLIENT_TRACKING_TARGET = 1 << 3, /* some tracking client redirects to it (or did) */
    CLIENT_MONITOR = 1 << 4,        /* in MONITOR mode (features/monitor.h) */
    CLIENT_SCRIPT = 1 << 5,         /* the client scripts run their commands as (monitor shows "lua") */
    CLIENT_FEEDING = 1 << 6,        /* a long reply produced as the output drains (the drained hook) */
    CLIENT_REPL_RDBONLY = 1 << 7,   /* REPLCONF rdb-only 1: SYNC sends an RDB image, then closes */
    CLIENT_REPL_FUNCS_ONLY = 1 << 8, /* REPLCONF rdb-filter-only functions: the image without keys */
    CLIENT_REPL_CAPA_EOF = 1 << 9,  /* REPLCONF capa eof */
    CLIENT_SYNCING = 1 << 10,       /* SYNC: waiting for its image or being sent it (features/replsync.h) */
    CLIENT_INPUT_LEFT = 1 << 11,    /* its pipelined input used its time slice: the rest runs from before-sleep */
};

typedef struct arg {
    char *p;
    size_t len;
} arg;

struct command;
struct acl_user;

typedef struct queued_cmd {
    struct command *cmd;
    int argc;
    arg *argv;
} queued_cmd;

typedef struct watched_key {
    db *db;
    char *key;
    size_t klen;
    int expired_at_watch;
} watched_key;

typedef struct client {
    uint64_t id;
    int fd;
    struct tls_conn *tls; /* NULL on a plain connection (net/conn.h) */
    int flags;
    int resp;
    int idx; /* position in srv.clients */
    db *db;
    char *name;
    char addr[128], laddr[128];
    long long ctime_ms, last_ms;
    /* input */
    char *qbuf;
    size_t qlen, qcap, qstart; /* qstart: first byte of the command being parsed */
    size_t qpop;               /* a mapped qbuf's bytes faulted in ahead of reads (net/networking.c) */
    size_t qpeak;
    int reqtype;               /* 0 none yet, '*' multibulk, 'i' inline */
    long mbulk;                /* arguments still to read */
    long long bulklen;         /* -1: reading a $ header */
    size_t ppos;               /* parse position, relative to qstart */
    int argc, argv_cap;
    arg *argv;
    size_t *argoff;            /* offsets of argv, relative to qstart, during parsing */
    /* output */
    char *obuf;
    size_t olen, ocap, opos;
    size_t opeak; /* the most output ever waiting at once (CLIENT LIST's rbp) */
    long long soft_limit_since;
    /* transactions */
    queued_cmd *mq;
    int mcount, mcap;
    watched_key *wk;
    int wcount, wcap;
    struct command *cmd, *lastcmd;
    /* blocking (features/blocking.c) */
    struct command *bcmd;
    arg *bargv, *bkeys;
    int bargc, bkeys_n, btimeout_reply, reblocked;
    long long bdeadline;
    db *bdb;
    /* the ACL user it is authenticated as (features/acl.h); NULL: no restrictions (internal clients) */
    struct acl_user *user;
    /* pub/sub (features/pubsub.c): the client's channels, patterns and shard channels, NULL when none */
    struct ptab *ps_sets[3];
    /* a command waiting for a worker thread (CLIENT_BGWAIT): its state, owned by the command's module */
    void *bgwait;
    int xflags; /* CLIENT_TRACKING ... (the second enum) */
    /* client-side caching (features/tracking.c): its state while CLIENT_TRACKING, the redirect ID (0 none) */
    struct trk_client *trk;
    uint64_t trk_redir;
} client;

/* What the layers above net/ do with clients, registered once at startup (app/main.c): net/
 * hands every complete request upward through process, and tells of a client about to be freed
 * through freeing (to leave MULTI, WATCH and wait queues), without calling up into them. */
struct qblock;
typedef struct client_hooks {
    int (*process)(client *c);                         /* 1 handled, 0 held (CLIENT PAUSE): retried later */
    void (*freeing)(client *c);
    const char *(*command_name)(const struct command *cmd); /* CLIENT LIST's cmd= */
    const char *(*user_name)(const client *c);              /* CLIENT LIST's user= */
    /* After a read, while a big argument is arriving (the first command in qbuf, qstart 0) or qbuf is
     * pinned: the layer above may pin qbuf and read the argument as it arrives. */
    void (*arriving)(client *c);
    /* A pinned qbuf net/ needs back (its command ran, it is full, the client is freed): the pinner owns
     * b from now on, the client going on with a copy of the bytes it still needs. */
    void (*qbuf_released)(client *c, struct qblock b);
    /* The output of a CLIENT_FEEDING client drained: the layer above appends the next part of its long
     * reply, or clears CLIENT_FEEDING when it is all out. */
    void (*drained)(client *c);
} client_hooks;
void clients_set_hooks(const client_hooks *h);
const client_hooks *clients_hooks(void);

/* Query/output buffer (re)allocation, counted in srv.client_buf_bytes: eviction does not count
 * these transient I/O buffers as data (Redis likewise leaves replica and AOF buffers out). */
void *cbuf_realloc(void *p, size_t size);
void cbuf_free(void *p);
client *client_create(int fd, int is_unix);
void client_free(client *c);
void client_close_async(client *c);
/* Hands the running command's query buffer to the caller, whose copy of the command's arguments keeps
 * pointing into it until qblock_free; the client gets a new buffer holding the bytes that followed the
 * command (a big argument then needs no copy to outlive its command). */
typedef struct qblock {
    char *p;
    size_t cap;
} qblock;
qblock client_take_qbuf(client *c);
/* Makes qbuf hold at least cap bytes (it may move now) and pins it there: until client_unpin_qbuf, or
 * the qbuf_released hook, it does not move, and reads stop at its end. */
void client_pin_qbuf(client *c, size_t cap);
void client_unpin_qbuf(client *c);
void qblock_free(qblock b);
/* Runs the commands complete in the query buffer. */
void client_process_input(client *c);
/* Writes what can be written now; 0 ok, -1 the client was freed. */
int client_write(client *c);
void client_reset_argv(client *c);
void client_install_write_handler(client *c);
/* Puts the client on the list written before the event loop sleeps (reply.c, on its first pending byte). */
void client_queue_write(client *c);
/* That list, live (entries of clients freed meanwhile are NULL), and its reset once walked. */
client **client_pending_writes(size_t *n);
void client_pending_writes_done(void);
/* The next client closed with client_close_async, NULL when none is left. */
client *client_next_closing(void);
/* Takes a client being freed off both lists. */
void client_forget(client *c);
/* The CLIENT LIST line of one client (heap string, free with s_free). */
char *client_info_line(client *c);
int client_class(const client *c);
void clients_handle_pending_writes(void);
/* A client whose command keeps running while the loop handles other clients (a busy script calls
 * el_poll) is protected meanwhile: its socket is neither read nor written, so nothing frees it
 * under the running command.  Unprotecting restores its handlers and queues its pending output. */
void client_protect(client *c);
void client_unprotect(client *c);
/* Closes the client (async) when its class's hard limit is reached or it has stayed above the soft
 * limit for more than soft-seconds, as Redis; returns 1 if so. */
int client_check_output_limits(client *c);
void clients_free_closed(void);
void clients_cron(void);
void clients_resume_paused(void);
/* One more time slice for each client whose pipelined input outlasted its slice (client_process_input stops
 * after INPUT_SLICE_US with commands left, so one client's pipeline cannot hold the others for long); 1 when
 * some still have input left (the loop must not sleep). */
int clients_run_left_input(void);
/* Accept handlers, installed on listening sockets by net/listen.c. */
void accept_tcp_handler(int fd, void *data, int mask);
void accept_unix_handler(int fd, void *data, int mask);
void accept_tls_handler(int fd, void *data, int mask);
/* Redis's "local client" (protected mode, enable-debug-command local ...): a unix socket, or a TCP
 * peer at exactly 127.0.0.1 or ::1. */
int client_is_local(const client *c);
#endif
