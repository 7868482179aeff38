/* snapshot: see snapshot.h. */
#include "persist/snapshot.h"
#include <stdio.h>

void snapshot_init(void) {}

int snapshot_start(const snap_req *r, char *err, size_t errlen) {
    (void)r;
    snprintf(err, errlen, "snapshots are not implemented yet");
    return -1;
}

int snapshot_running(void) { return 0; }
void snapshot_abort(void) {}
int snapshot_step(void) { return 0; }
