/*
 * The SQLite store of a case: the whole analysis model in one ordinary SQLite
 * file, so that a support engineer can open it with sqlite3 and ask their own
 * questions. The schema documents itself (`.schema` shows a comment on every
 * table and column) and views show the per-packet tables with text addresses.
 *
 * The store writes what the model says and decides nothing.
 */
#ifndef TTLSLEUTH_STORE_H
#define TTLSLEUTH_STORE_H

#include <stddef.h>

#include "analyzer/model.h"

/* PRAGMA user_version of the files written; raise it with every schema change. */
#define STORE_SCHEMA_VERSION 1

/*
 * Writes the whole case into a new SQLite database file at path. The caller
 * passes a temporary path and renames it afterwards; the file must not exist
 * yet (it is never overwritten), and it is flushed to disk before this returns.
 * Returns 0, or -1 with one clear sentence naming the path in err; on failure no
 * file is left behind.
 */
int store_write_case(const struct case_model *cm, const char *path, char *err, size_t err_size);

#endif
