/*
 * test_collectd_syntax.c - the word splitter shared by the config file reader
 * and the PUTVAL parser: bare and quoted words, the two escapes, end of line,
 * and every error (unterminated quote, text glued to a quote, a word too long).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "collectd_syntax.h"

#include <string.h>

static void test_words_split(void **state) {
  (void)state;
  const char *p =
      "  bare \"two words\"\t\"a \\\"q\\\" \\\\ b\" \"\" \"C:\\dir\"  ";
  char w[64], err[128];
  assert_int_equal(collectd_word_next(&p, w, sizeof(w), err, sizeof(err)), 1);
  assert_string_equal(w, "bare");
  assert_int_equal(collectd_word_next(&p, w, sizeof(w), err, sizeof(err)), 1);
  assert_string_equal(w, "two words");
  assert_int_equal(collectd_word_next(&p, w, sizeof(w), err, sizeof(err)), 1);
  assert_string_equal(w, "a \"q\" \\ b");
  assert_int_equal(collectd_word_next(&p, w, sizeof(w), err, sizeof(err)), 1);
  assert_string_equal(w, "");
  /* only \" and \\ are escapes: a Windows path keeps its backslash */
  assert_int_equal(collectd_word_next(&p, w, sizeof(w), err, sizeof(err)), 1);
  assert_string_equal(w, "C:\\dir");
  assert_int_equal(collectd_word_next(&p, w, sizeof(w), err, sizeof(err)), 0);
  assert_string_equal(w, "");
  assert_int_equal(collectd_word_next(&p, w, sizeof(w), err, sizeof(err)), 0);
}

static void test_words_errors(void **state) {
  (void)state;
  static const struct {
    const char *line, *why;
  } cases[] = {
      {"\"open", "missing closing '\"'"},
      {"\"open\\\"", "missing closing '\"'"},
      {"\"glued\"x", "text right after a closing '\"'"},
      {"abcdefgh", "word longer than 7 bytes"},
      {"\"abcdefgh\"", "word longer than 7 bytes"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    const char *p = cases[i].line;
    char w[8], err[128] = "";
    if (collectd_word_next(&p, w, sizeof(w), err, sizeof(err)) != -1)
      fail_msg("accepted: %s", cases[i].line);
    if (strcmp(err, cases[i].why) != 0)
      fail_msg("%s: got \"%s\", want \"%s\"", cases[i].line, err, cases[i].why);
  }
  /* exactly fitting */
  const char *p = "abcdefg";
  char w[8], err[64];
  assert_int_equal(collectd_word_next(&p, w, sizeof(w), err, sizeof(err)), 1);
  assert_string_equal(w, "abcdefg");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_words_split),
      cmocka_unit_test(test_words_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
