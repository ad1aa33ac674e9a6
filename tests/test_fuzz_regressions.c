/*
 * What the fuzzers found stays fixed: every file in fuzz/regressions/, named
 * <target>-<short name>, is replayed through the body of the fuzz target that
 * found it; and every seed in fuzz/corpus/<target>/ is run too, so the targets
 * themselves keep building and running in the ordinary test build (no clang,
 * no libFuzzer: fuzz_targets.h explains how the bodies are shared).
 *
 * A regression shows as a sanitizer report under tests/run's ASan+UBSan build,
 * or as a target's invariant check aborting in either build. The name of each
 * input is printed before it runs, so the log says which one it was.
 */
#define _GNU_SOURCE /* memfd_create, memmem in the fuzz targets */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "support.h"

#define FUZZ_NO_MAIN
#include "fuzz/fuzz_capture_reader.c"
#include "fuzz/fuzz_dissect_frame.c"
#include "fuzz/fuzz_icmp_quote.c"

static const struct {
	const char *name;
	int (*run)(const uint8_t *data, size_t size);
} targets[] = {
	{ "fuzz_dissect_frame", fuzz_dissect_frame },
	{ "fuzz_icmp_quote", fuzz_icmp_quote },
	{ "fuzz_capture_reader", fuzz_capture_reader },
};
enum { TARGET_COUNT = sizeof targets / sizeof targets[0] };

static void replay_file(const char *path, const char *label, int target)
{
	size_t len = 0;
	char *data = slurp_file(path, &len);
	if (!data)
		fail_msg("cannot read %s", path);
	print_message("replaying %s through %s (%zu bytes)\n", label, targets[target].name, len);
	fflush(stdout);
	assert_int_equal(targets[target].run((const uint8_t *)data, len), 0);
	free(data);
}

/* Replays every regular file of dir (through fixed_target, or the one its name starts with); returns how many. */
static int replay_dir(const char *dir, int fixed_target)
{
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort);
	if (n < 0)
		fail_msg("cannot list %s", dir);
	int replayed = 0;
	for (int i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		char path[4096];
		snprintf(path, sizeof path, "%s/%s", dir, name);
		struct stat st;
		if (name[0] == '.' || stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
			free(names[i]);
			continue;
		}
		int target = fixed_target;
		for (int t = 0; t < TARGET_COUNT && target < 0; t++) {
			size_t len = strlen(targets[t].name);
			if (strncmp(name, targets[t].name, len) == 0 && name[len] == '-')
				target = t;
		}
		if (target < 0)
			fail_msg("%s: name it <target>-<short name>, target one of fuzz_dissect_frame, "
				 "fuzz_icmp_quote, fuzz_capture_reader",
				 path);
		replay_file(path, name, target);
		replayed++;
		free(names[i]);
	}
	free(names);
	return replayed;
}

static void test_regressions_stay_fixed(void **state)
{
	(void)state;
	char *dir = source_path("fuzz/regressions");
	int n = replay_dir(dir, -1);
	print_message("%d regression inputs replayed\n", n);
	free(dir);
}

static void test_seed_corpora_run(void **state)
{
	(void)state;
	for (int t = 0; t < TARGET_COUNT; t++) {
		char relative[256];
		snprintf(relative, sizeof relative, "fuzz/corpus/%s", targets[t].name);
		char *dir = source_path(relative);
		int n = replay_dir(dir, t);
		assert_true(n > 0);
		free(dir);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_regressions_stay_fixed),
		cmocka_unit_test(test_seed_corpora_run),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
