/* tlist: the list type as the keyspace sees it: its obj_ops (list_ops) and
 * the creation of a new list with the server's current encoding settings
 * (list-max-listpack-size is read when a list is created, as in Redis). */
#ifndef SARDINE_TLIST_H
#define SARDINE_TLIST_H
#include "types/quicklist.h"

quicklist *tlist_new(void);
#endif
