/*
 * Replacing a set of files in a directory, all of them or none.
 *
 * POSIX renames one file atomically, never several. The set is written under
 * temporary names (.NAME.tmp), then committed through a journal kept in the
 * directory itself: each name first gets an entry saying what it held before
 * (.NAME.old, a hard link to the old file, or .NAME.none: nothing), then the
 * temporaries are renamed into place, then the entries are removed. When a
 * rename fails, the entries put the old set back.
 *
 * A process killed on the way leaves its entries and temporaries behind, and
 * the next run into the directory settles them before anything else:
 * temporaries still there mean the renames had not all happened, so the old
 * set comes back; none left means they had, so the new set stays. Until then
 * the directory may show a mix, but only if the kill came during the renames
 * themselves (microseconds; the writing before them takes seconds), or with a
 * file system without hard links, where the old files are moved aside instead.
 *
 * The directory is locked (flock) from begin to end, so two runs into it do
 * not interleave, and it is fsynced between the steps: the entries are on disk
 * before the first rename, and the new set before the entries go.
 */
#ifndef TTLSLEUTH_OUTPUT_SET_H
#define TTLSLEUTH_OUTPUT_SET_H

#include <stdbool.h>
#include <stddef.h>

#include "analyzer/errors.h"

enum { OUTPUT_SET_MAX = 4, OUTPUT_PATH_MAX = 4096 };

struct output_file_names {
	char final[OUTPUT_PATH_MAX], temp[OUTPUT_PATH_MAX];
	char old[OUTPUT_PATH_MAX], none[OUTPUT_PATH_MAX]; /* the journal entries */
};

struct output_set {
	int dir_fd; /* open from begin to end, holding the lock */
	size_t n;
	struct output_file_names files[OUTPUT_SET_MAX];
};

/*
 * Locks dir (which must exist), settles what an earlier run left, and names
 * the temporaries; at most OUTPUT_SET_MAX names. 0, or EXIT_OUTPUT_FAILED with
 * *err set (the set is then ended already).
 */
int output_set_begin(struct output_set *s, const char *dir, const char *const *names, size_t n,
		     struct error *err);

/* Where the caller writes file i (created anew: nothing is there). */
const char *output_set_temp(const struct output_set *s, size_t i);

/*
 * Puts every temporary in place of its final name, or, when one cannot be,
 * leaves the old set as it was. 0, or EXIT_OUTPUT_FAILED with *err set. The
 * temporaries must all be written and flushed to disk.
 */
int output_set_commit(struct output_set *s, struct error *err);

/* Removes the temporaries of an uncommitted set and unlocks the directory. */
void output_set_end(struct output_set *s);

#endif
