/*
 * Replacing the output files all or none (analyzer/output_set.h): a commit
 * that fails half-way, and the states a process killed at each step leaves
 * behind, settled by the next run into the directory.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "analyzer/output_set.h"
#include "support.h"

static const char *const names[] = { "a.db", "b.xml", "c.html" };
enum { N = 3 };

static void put(const char *dir, const char *name, const char *content)
{
	char path[700];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	fputs(content, f);
	assert_int_equal(fclose(f), 0);
}

/* The file's content, "-" when it is missing, "dir" for a directory. */
static char *get(const char *dir, const char *name)
{
	char path[700];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	struct stat st;
	if (lstat(path, &st) != 0)
		return strdup("-");
	if (S_ISDIR(st.st_mode))
		return strdup("dir");
	char *s = slurp_file(path, NULL);
	assert_non_null(s);
	return s;
}

/* The directory's names, sorted, joined with spaces. */
static void listing(const char *dir, char *out, size_t size)
{
	struct dirent **list;
	int n = scandir(dir, &list, NULL, alphasort);
	assert_true(n >= 0);
	out[0] = '\0';
	for (int i = 0; i < n; i++) {
		if (strcmp(list[i]->d_name, ".") && strcmp(list[i]->d_name, "..")) {
			size_t len = strlen(out);
			snprintf(out + len, size - len, "%s%s", len ? " " : "", list[i]->d_name);
		}
		free(list[i]);
	}
	free(list);
}

static void assert_files(const char *dir, const char *a, const char *b, const char *c)
{
	const char *want[N] = { a, b, c };
	for (int i = 0; i < N; i++) {
		char *got = get(dir, names[i]);
		if (strcmp(got, want[i]))
			print_error("%s: got '%s', want '%s'\n", names[i], got, want[i]);
		assert_string_equal(got, want[i]);
		free(got);
	}
}

static void assert_listing(const char *dir, const char *want)
{
	char got[1024];
	listing(dir, got, sizeof got);
	assert_string_equal(got, want);
}

/* Writes "new-i" into each temporary and commits; returns the commit's result. */
static int replace(const char *dir, struct error *err)
{
	struct output_set s;
	int rc = output_set_begin(&s, dir, names, N, err);
	if (rc)
		return rc;
	for (int i = 0; i < N; i++) {
		FILE *f = fopen(output_set_temp(&s, (size_t)i), "wx");
		assert_non_null(f);
		fprintf(f, "new-%d", i);
		assert_int_equal(fclose(f), 0);
	}
	rc = output_set_commit(&s, err);
	output_set_end(&s);
	return rc;
}

static void old_set(const char *dir)
{
	put(dir, "a.db", "old-0");
	put(dir, "b.xml", "old-1");
	put(dir, "c.html", "old-2");
}

static void fresh_and_replaced(void **state)
{
	(void)state;
	char *dir = make_temp_dir();
	struct error err = { 0 };
	assert_int_equal(replace(dir, &err), 0);
	assert_files(dir, "new-0", "new-1", "new-2");
	assert_listing(dir, "a.db b.xml c.html");
	old_set(dir);
	put(dir, "notes.txt", "the user's own");
	assert_int_equal(replace(dir, &err), 0);
	assert_files(dir, "new-0", "new-1", "new-2");
	assert_listing(dir, "a.db b.xml c.html notes.txt");
	remove_temp_dir(dir);
}

/* The last rename fails (a directory in the way): the two before it are undone. */
static void failed_rename_is_undone(void **state)
{
	(void)state;
	char *dir = make_temp_dir();
	old_set(dir);
	char path[700];
	snprintf(path, sizeof path, "%s/c.html", dir);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkdir(path, 0755), 0);
	struct error err = { 0 };
	assert_int_equal(replace(dir, &err), EXIT_OUTPUT_FAILED);
	assert_non_null(strstr(err.message, "c.html: cannot rename into place"));
	assert_files(dir, "old-0", "old-1", "dir");
	assert_listing(dir, "a.db b.xml c.html");

	/* No earlier b.xml: undoing removes the new one, as it was not there before. */
	snprintf(path, sizeof path, "%s/b.xml", dir);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(replace(dir, &err), EXIT_OUTPUT_FAILED);
	assert_files(dir, "old-0", "-", "dir");
	assert_listing(dir, "a.db c.html");
	remove_temp_dir(dir);
}

/* Settles dir as the next run would, without writing anything. */
static void settle(const char *dir)
{
	struct output_set s;
	struct error err = { 0 };
	assert_int_equal(output_set_begin(&s, dir, names, N, &err), 0);
	output_set_end(&s);
}

/* Killed while writing the temporaries: they go, the old set stays. */
static void killed_while_writing(void **state)
{
	(void)state;
	char *dir = make_temp_dir();
	old_set(dir);
	put(dir, ".a.db.tmp", "new-0");
	put(dir, ".a.db.tmp-journal", "sqlite's");
	put(dir, ".b.xml.tmp", "new-");
	settle(dir);
	assert_files(dir, "old-0", "old-1", "old-2");
	assert_listing(dir, "a.db b.xml c.html");
	remove_temp_dir(dir);
}

/* Killed after one rename of three: the old set comes back. */
static void killed_between_renames(void **state)
{
	(void)state;
	char *dir = make_temp_dir();
	/* Before: a.db and b.xml, no c.html. Entries written, a.db renamed. */
	put(dir, "a.db", "new-0");
	put(dir, ".a.db.old", "old-0");
	put(dir, "b.xml", "old-1");
	char from[700], to[700];
	snprintf(from, sizeof from, "%s/b.xml", dir);
	snprintf(to, sizeof to, "%s/.b.xml.old", dir);
	assert_int_equal(link(from, to), 0);
	put(dir, ".c.html.none", "");
	put(dir, ".b.xml.tmp", "new-1");
	put(dir, ".c.html.tmp", "new-2");
	settle(dir);
	assert_files(dir, "old-0", "old-1", "-");
	assert_listing(dir, "a.db b.xml");

	/* On a file system without hard links the old files were moved aside instead. */
	put(dir, ".a.db.old", "old-0");
	put(dir, ".b.xml.old", "old-1");
	snprintf(from, sizeof from, "%s/a.db", dir);
	snprintf(to, sizeof to, "%s/b.xml", dir);
	assert_int_equal(unlink(from), 0);
	assert_int_equal(unlink(to), 0);
	put(dir, ".c.html.none", "");
	put(dir, ".a.db.tmp", "new-0");
	put(dir, ".b.xml.tmp", "new-1");
	put(dir, ".c.html.tmp", "new-2");
	settle(dir);
	assert_files(dir, "old-0", "old-1", "-");
	assert_listing(dir, "a.db b.xml");
	remove_temp_dir(dir);
}

/* Killed after the last rename, while removing the entries: the new set stays. */
static void killed_after_the_renames(void **state)
{
	(void)state;
	char *dir = make_temp_dir();
	put(dir, "a.db", "new-0");
	put(dir, "b.xml", "new-1");
	put(dir, "c.html", "new-2");
	put(dir, ".b.xml.old", "old-1");
	put(dir, ".c.html.none", "");
	settle(dir);
	assert_files(dir, "new-0", "new-1", "new-2");
	assert_listing(dir, "a.db b.xml c.html");
	remove_temp_dir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fresh_and_replaced),
		cmocka_unit_test(failed_rename_is_undone),
		cmocka_unit_test(killed_while_writing),
		cmocka_unit_test(killed_between_renames),
		cmocka_unit_test(killed_after_the_renames),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
