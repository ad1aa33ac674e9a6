#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyzer/output_set.h"

static bool exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

static int remove_file(const char *path)
{
	return unlink(path) == 0 || errno == ENOENT ? 0 : -1;
}

/* Some file systems cannot sync a directory; they say so, and that is no failure of ours. */
static int sync_dir(const struct output_set *s)
{
	if (fsync(s->dir_fd) == 0 || errno == EINVAL || errno == ENOTSUP)
		return 0;
	return -1;
}

/* SQLite's rollback journal beside a temporary store that was being written. */
static void remove_sqlite_journal(const char *temp)
{
	char journal[OUTPUT_PATH_MAX + 8];
	snprintf(journal, sizeof journal, "%s-journal", temp);
	remove_file(journal);
}

/*
 * Finishes or undoes what a commit left in the directory: the same steps
 * whether the commit failed in this process or an earlier one was killed.
 * Undoing puts back every entry before removing any, and removes the entries
 * before the temporaries, so a kill while settling leaves a state the next
 * settling reads the same way.
 */
static int settle(struct output_set *s, struct error *err)
{
	bool journal = false, renames_pending = false;
	for (size_t i = 0; i < s->n; i++) {
		journal |= exists(s->files[i].old) || exists(s->files[i].none);
		renames_pending |= exists(s->files[i].temp);
	}
	int rc = 0;
	for (size_t i = 0; journal && renames_pending && i < s->n; i++) {
		const struct output_file_names *f = &s->files[i];
		/* A final name whose temporary is gone holds the new file. */
		if (exists(f->old)) {
			if (rename(f->old, f->final) != 0)
				rc = error_set(err, EXIT_OUTPUT_FAILED,
					       "%s: cannot put the earlier file back from %s: %s", f->final,
					       f->old, strerror(errno));
		} else if (exists(f->none) && !exists(f->temp) && remove_file(f->final) != 0) {
			rc = error_set(err, EXIT_OUTPUT_FAILED,
				       "%s: cannot remove it (it was not there before): %s", f->final,
				       strerror(errno));
		}
	}
	if (rc)
		return rc; /* the entries stay for the next run to try again */
	if (journal && sync_dir(s) != 0)
		return error_set(err, EXIT_OUTPUT_FAILED, "cannot sync the output directory: %s",
				 strerror(errno));
	for (size_t i = 0; i < s->n; i++) {
		/* A put-back hard link of the file itself is still there: rename leaves both names. */
		const char *entries[] = { s->files[i].old, s->files[i].none };
		for (size_t e = 0; e < 2; e++)
			if (remove_file(entries[e]) != 0)
				return error_set(err, EXIT_OUTPUT_FAILED, "%s: cannot remove: %s",
						 entries[e], strerror(errno));
	}
	for (size_t i = 0; i < s->n; i++) {
		remove_file(s->files[i].temp);
		remove_sqlite_journal(s->files[i].temp);
	}
	return 0;
}

static int name_paths(const char *dir, const char *name, struct output_file_names *f,
		      struct error *err)
{
	int a = snprintf(f->final, sizeof f->final, "%s/%s", dir, name);
	int b = snprintf(f->temp, sizeof f->temp, "%s/.%s.tmp", dir, name);
	int c = snprintf(f->old, sizeof f->old, "%s/.%s.old", dir, name);
	int d = snprintf(f->none, sizeof f->none, "%s/.%s.none", dir, name);
	if (a < 0 || b < 0 || c < 0 || d < 0 || (size_t)a >= sizeof f->final ||
	    (size_t)b >= sizeof f->temp || (size_t)c >= sizeof f->old || (size_t)d >= sizeof f->none)
		return error_set(err, EXIT_OUTPUT_FAILED, "%s: path too long", dir);
	return 0;
}

int output_set_begin(struct output_set *s, const char *dir, const char *const *names, size_t n,
		     struct error *err)
{
	memset(s, 0, sizeof *s);
	s->dir_fd = -1;
	if (n > OUTPUT_SET_MAX)
		return error_set(err, EXIT_OUTPUT_FAILED, "%s: too many output files", dir);
	for (size_t i = 0; i < n; i++)
		if (name_paths(dir, names[i], &s->files[i], err) != 0)
			return EXIT_OUTPUT_FAILED;
	s->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dir_fd < 0)
		return error_set(err, EXIT_OUTPUT_FAILED, "%s: cannot open the directory: %s", dir,
				 strerror(errno));
	/* Where flock is not to be had (some network file systems), runs are not serialised. */
	while (flock(s->dir_fd, LOCK_EX) != 0 && errno == EINTR)
		;
	s->n = n;
	int rc = settle(s, err);
	if (rc) {
		s->n = 0; /* leave what could not be settled to the next run */
		output_set_end(s);
	}
	return rc;
}

const char *output_set_temp(const struct output_set *s, size_t i)
{
	return s->files[i].temp;
}

/* Notes what the final name holds now: a hard link to it, else the file itself moved aside. */
static int write_entry(const struct output_file_names *f, struct error *err)
{
	struct stat st;
	if (lstat(f->final, &st) != 0) {
		if (errno != ENOENT)
			return error_set(err, EXIT_OUTPUT_FAILED, "%s: %s", f->final, strerror(errno));
		int fd = open(f->none, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (fd < 0)
			return error_set(err, EXIT_OUTPUT_FAILED, "%s: cannot create: %s", f->none,
					 strerror(errno));
		close(fd);
		return 0;
	}
	/* A directory is never moved: the rename onto it fails, and the set is undone. */
	if (S_ISDIR(st.st_mode))
		return 0;
	if (linkat(AT_FDCWD, f->final, AT_FDCWD, f->old, 0) == 0 || rename(f->final, f->old) == 0)
		return 0;
	return error_set(err, EXIT_OUTPUT_FAILED, "%s: cannot be replaced: %s", f->final, strerror(errno));
}

int output_set_commit(struct output_set *s, struct error *err)
{
	int rc = 0;
	for (size_t i = 0; i < s->n && !rc; i++)
		rc = write_entry(&s->files[i], err);
	if (!rc && sync_dir(s) != 0)
		rc = error_set(err, EXIT_OUTPUT_FAILED, "cannot sync the output directory: %s",
			       strerror(errno));
	for (size_t i = 0; i < s->n && !rc; i++)
		if (rename(s->files[i].temp, s->files[i].final) != 0)
			rc = error_set(err, EXIT_OUTPUT_FAILED, "%s: cannot rename into place: %s",
				       s->files[i].final, strerror(errno));
	if (rc) {
		/* Undo, keeping the first error: it is the one that says what went wrong. */
		struct error undo = { 0 };
		if (settle(s, &undo) != 0) {
			size_t len = strlen(err->message);
			snprintf(err->message + len, sizeof err->message - len, "; undoing it failed: %s",
				 undo.message);
		}
		return rc;
	}
	/* Before the entries go, the new set must be on disk: else a crash could bring back neither. */
	if (sync_dir(s) != 0)
		return error_set(err, EXIT_OUTPUT_FAILED,
				 "the new files are in place, but cannot sync the output directory: %s",
				 strerror(errno));
	rc = settle(s, err);
	if (!rc && sync_dir(s) != 0)
		rc = error_set(err, EXIT_OUTPUT_FAILED,
			       "the new files are in place, but cannot sync the output directory: %s",
			       strerror(errno));
	return rc;
}

void output_set_end(struct output_set *s)
{
	if (s->dir_fd < 0)
		return;
	struct error ignored;
	settle(s, &ignored);
	close(s->dir_fd); /* and with it the lock */
	s->dir_fd = -1;
	s->n = 0;
}
