/* SPDX-License-Identifier: MIT */
/*
 * Sizes and numbers as the tools parse and print them (tools/common/parse.c).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "parse.h"

static uint64_t size_ok(const char *s)
{
	uint64_t v = 12345;

	if (ash_size_parse(s, &v))
		fail_msg("\"%s\" was refused", s);
	return v;
}

static void size_err(const char *s, int err)
{
	uint64_t v = 12345;

	assert_int_equal(ash_size_parse(s, &v), err);
	assert_int_equal(v, 12345);	/* untouched on error */
}

static void sizes_plain_and_suffixed(void **state)
{
	(void)state;
	assert_int_equal(size_ok("0"), 0);
	assert_int_equal(size_ok("4096"), 4096);
	assert_int_equal(size_ok("4096B"), 4096);
	assert_int_equal(size_ok("1K"), 1024);
	assert_int_equal(size_ok("1k"), 1024);
	assert_int_equal(size_ok("512M"), 512ULL << 20);
	assert_int_equal(size_ok("512MiB"), 512ULL << 20);
	assert_int_equal(size_ok("4G"), 4ULL << 30);
	assert_int_equal(size_ok("4gib"), 4ULL << 30);
	assert_int_equal(size_ok("2T"), 2ULL << 40);
	assert_int_equal(size_ok("007M"), 7ULL << 20);
}

static void sizes_exact_fractions(void **state)
{
	(void)state;
	assert_int_equal(size_ok("1.5G"), 3ULL << 29);
	assert_int_equal(size_ok("1.50G"), 3ULL << 29);
	assert_int_equal(size_ok("0.5K"), 512);
	assert_int_equal(size_ok("0.25M"), 256 * 1024);
	assert_int_equal(size_ok("2.0"), 2);
	assert_int_equal(size_ok("1.0009765625K"), 1025);
	/* Not whole bytes: refused, never rounded. */
	size_err("1.5", -EDOM);
	size_err("0.1K", -EDOM);
	size_err("1.00000000000000000001G", -EINVAL);
}

static void sizes_junk_refused(void **state)
{
	(void)state;
	size_err(NULL, -EINVAL);
	size_err("", -EINVAL);
	size_err("-1", -EINVAL);
	size_err("+1", -EINVAL);
	size_err(" 1", -EINVAL);
	size_err("1 ", -EINVAL);
	size_err("1 G", -EINVAL);
	size_err("G", -EINVAL);
	size_err(".5G", -EINVAL);
	size_err("1.G", -EINVAL);
	size_err("1..5G", -EINVAL);
	size_err("1KB", -EINVAL);
	size_err("1X", -EINVAL);
	size_err("1GG", -EINVAL);
	size_err("0x10", -EINVAL);
	size_err("1e3", -EINVAL);
}

static void sizes_overflow_refused(void **state)
{
	(void)state;
	assert_true(size_ok("18446744073709551615") == UINT64_MAX);
	size_err("18446744073709551616", -ERANGE);
	size_err("99999999999999999999999999999999999999999", -ERANGE);
	assert_true(size_ok("16777215T") == 16777215ULL << 40);
	size_err("16777216T", -ERANGE);
	size_err("17179869184G", -ERANGE);
	assert_true(size_ok("16777215.5T") == (16777215ULL << 40) +
					     (1ULL << 39));
}

static void format(uint64_t v, const char *want)
{
	char buf[ASH_SIZE_STR_MAX];

	ash_size_format(v, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

static void sizes_formatted(void **state)
{
	(void)state;
	format(0, "0 B");
	format(1023, "1023 B");
	format(1024, "1.0 KiB");
	format(1536, "1.5 KiB");
	format(512ULL << 20, "512.0 MiB");
	format(3ULL << 29, "1.5 GiB");
	/* Rounding up into the next unit moves to that unit. */
	format((1ULL << 20) - 1, "1.0 MiB");
	format((1ULL << 30) - (1ULL << 20), "1023.0 MiB");
	format(UINT64_MAX, "16.0 EiB");
}

static void format_exact(uint64_t v, const char *want)
{
	char buf[32];
	uint64_t back = 0;

	ash_size_format_exact(v, buf, sizeof(buf));
	assert_string_equal(buf, want);
	assert_int_equal(ash_size_parse(buf, &back), 0);
	assert_true(back == v);
}

/* Exact sizes read back as the same number: what ashctl export writes. */
static void sizes_formatted_exactly(void **state)
{
	(void)state;
	format_exact(0, "0");
	format_exact(4097, "4097");
	format_exact(1024, "1K");
	format_exact(3ULL << 29, "1536M");
	format_exact(4ULL << 30, "4G");
	format_exact(5ULL << 40, "5T");
	format_exact(1ULL << 50, "1024T");
	format_exact(UINT64_MAX, "18446744073709551615");
}

static void numbers(void **state)
{
	uint64_t v = 7;

	(void)state;
	assert_int_equal(ash_num_parse("0", 10, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(ash_num_parse("10", 10, &v), 0);
	assert_int_equal(v, 10);
	assert_int_equal(ash_num_parse("11", 10, &v), -ERANGE);
	assert_int_equal(ash_num_parse("18446744073709551615", UINT64_MAX, &v),
			 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(ash_num_parse("18446744073709551616", UINT64_MAX, &v),
			 -ERANGE);
	assert_int_equal(ash_num_parse("", 10, &v), -EINVAL);
	assert_int_equal(ash_num_parse("-1", 10, &v), -EINVAL);
	assert_int_equal(ash_num_parse("1x", 10, &v), -EINVAL);
	assert_int_equal(ash_num_parse(" 1", 10, &v), -EINVAL);
	assert_int_equal(ash_num_parse(NULL, 10, &v), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sizes_plain_and_suffixed),
		cmocka_unit_test(sizes_exact_fractions),
		cmocka_unit_test(sizes_junk_refused),
		cmocka_unit_test(sizes_overflow_refused),
		cmocka_unit_test(sizes_formatted),
		cmocka_unit_test(sizes_formatted_exactly),
		cmocka_unit_test(numbers),
	};

	return cmocka_run_group_tests_name("parse", tests, NULL, NULL);
}
