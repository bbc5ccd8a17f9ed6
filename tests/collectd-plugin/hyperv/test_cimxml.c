/*
 * test_cimxml.c - unit tests of the embedded Msvm_KvpExchangeDataItem
 * decoder and encoder (collectd-plugin/cimxml.c): documented rules for
 * hostile input, round trips, and truncation at every length.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cimxml.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEAD "<INSTANCE CLASSNAME=\"Msvm_KvpExchangeDataItem\">"
#define PROP(n, v)                                                             \
  "<PROPERTY NAME=\"" n "\" TYPE=\"string\"><VALUE>" v "</VALUE></PROPERTY>"
#define TAIL "</INSTANCE>"

static cimx_rc_t dec(const char *s, cimx_item_t *it) {
  ws_err_t why = {.kind = WS_ERR_NONE};
  return cimx_decode(s, strlen(s), it, &why);
}

static void test_decode_windows_form(void **state) {
  cimx_item_t it;
  const char *s = HEAD
      "<PROPERTY NAME=\"Caption\" PROPAGATED=\"true\" TYPE=\"string\">"
      "</PROPERTY>" PROP(
          "Data",
          "Debian GNU/Linux 12&#10;") "<PROPERTY NAME=\"Description\" "
                                      "PROPAGATED=\"true\" "
                                      "TYPE=\"string\"></PROPERTY>" PROP(
                                          "Name",
                                          "OSName") "<PROPERTY NAME=\"Source\" "
                                                    "TYPE=\"uint16\"><VALUE>2</"
                                                    "VALUE>"
                                                    "</PROPERTY>" TAIL;
  assert_int_equal(dec(s, &it), CIMX_OK);
  assert_string_equal(it.name, "OSName");
  assert_string_equal(it.data, "Debian GNU/Linux 12\n");
  assert_int_equal(it.data_len, strlen("Debian GNU/Linux 12\n"));
  assert_int_equal(it.source, 2);
}

static void test_decode_entities_cdata_comments(void **state) {
  cimx_item_t it;
  const char *s = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<!-- c -->"
                  "<INSTANCE CLASSNAME='Msvm_KvpExchangeDataItem' >\n"
                  "  <PROPERTY NAME='Name' TYPE='string'><VALUE>k&#x41;&#228;"
                  "&lt;&amp;&gt;&quot;&apos;</VALUE></PROPERTY>\n"
                  "  <PROPERTY NAME=\"Data\"><VALUE>a<![CDATA[<b>&amp;]]>c"
                  "</VALUE></PROPERTY><!-- trailing -->\n</INSTANCE>\n";
  assert_int_equal(dec(s, &it), CIMX_OK);
  assert_string_equal(it.name, "kA\xc3\xa4<&>\"'");
  assert_string_equal(it.data, "a<b>&amp;c");
  assert_int_equal(it.source, -1);
}

static void test_decode_non_ascii(void **state) {
  cimx_item_t it;
  const char *s =
      HEAD PROP("Name", "gr\xc3\xbc\xc3\x9f"
                        "e") PROP("Data", "\xe6\x97\xa5 \xf0\x9f\x98\x80") TAIL;
  assert_int_equal(dec(s, &it), CIMX_OK);
  assert_string_equal(it.name, "gr\xc3\xbc\xc3\x9f"
                               "e");
  assert_string_equal(it.data, "\xe6\x97\xa5 \xf0\x9f\x98\x80");
}

static void test_missing_data_is_empty(void **state) {
  cimx_item_t it;
  assert_int_equal(dec(HEAD PROP("Name", "k") TAIL, &it), CIMX_OK);
  assert_string_equal(it.data, "");
  /* a Data property without VALUE (null) is "" too */
  assert_int_equal(dec(HEAD PROP("Name", "k") "<PROPERTY NAME=\"Data\" "
                                              "TYPE=\"string\"/>" TAIL,
                       &it),
                   CIMX_OK);
  assert_string_equal(it.data, "");
}

static void test_rejections(void **state) {
  cimx_item_t it;
  ws_err_t why = {.kind = WS_ERR_NONE};
  assert_int_equal(
      dec("<INSTANCE CLASSNAME=\"Msvm_Other\">" PROP("Name", "k") TAIL, &it),
      CIMX_E_CLASS);
  assert_int_equal(dec("<INSTANCE>" PROP("Name", "k") TAIL, &it), CIMX_E_CLASS);
  assert_int_equal(dec(HEAD PROP("Data", "d") TAIL, &it), CIMX_E_NONAME);
  assert_int_equal(dec(HEAD PROP("Name", "") TAIL, &it), CIMX_E_NONAME);
  assert_int_equal(dec(HEAD PROP("Name", "a") PROP("Name", "b") TAIL, &it),
                   CIMX_E_DUP);
  assert_int_equal(
      dec(HEAD "<PROPERTY NAME=\"Name\"><VALUE>a</VALUE><VALUE>b</VALUE>"
               "</PROPERTY>" TAIL,
          &it),
      CIMX_E_DUP);
  assert_int_equal(dec(HEAD PROP("Name", "a&foo;") TAIL, &it), CIMX_E_ENCODING);
  assert_int_equal(dec(HEAD PROP("Name", "a&#0;") TAIL, &it), CIMX_E_ENCODING);
  assert_int_equal(dec(HEAD PROP("Name", "a&#xD800;") TAIL, &it),
                   CIMX_E_ENCODING);
  assert_int_equal(dec(HEAD PROP("Name", "a\xff") TAIL, &it), CIMX_E_ENCODING);
  assert_int_equal(dec(HEAD PROP("Name", "a\x01") TAIL, &it), CIMX_E_ENCODING);
  assert_int_equal(dec("<!DOCTYPE x>" HEAD PROP("Name", "a") TAIL, &it),
                   CIMX_E_SYNTAX);
  assert_int_equal(dec(HEAD PROP("Name", "a") "</PROPERTY>" TAIL, &it),
                   CIMX_E_SYNTAX);
  assert_int_equal(dec(HEAD PROP("Name", "a") TAIL "<x/>", &it), CIMX_E_SYNTAX);
  assert_int_equal(dec(HEAD "<PROPERTY NAME=\"Name\"><VALUE>a<b/></VALUE>"
                            "</PROPERTY>" TAIL,
                       &it),
                   CIMX_E_SYNTAX);
  assert_int_equal(
      dec(HEAD "<PROPERTY NAME=Name><VALUE>a</VALUE></PROPERTY>" TAIL, &it),
      CIMX_E_SYNTAX);
  assert_int_equal(dec("", &it), CIMX_E_SYNTAX);
  /* the reason names what is wrong */
  assert_int_equal(cimx_decode(HEAD TAIL, strlen(HEAD TAIL), &it, &why),
                   CIMX_E_NONAME);
  assert_non_null(strstr(why.msg, "Name"));
  assert_int_equal(why.code, CIMX_E_NONAME);
}

static void test_deep_nesting(void **state) {
  cimx_item_t it;
  char s[1024] = HEAD;
  for (int i = 0; i < 20; i++)
    strcat(s, "<A>");
  for (int i = 0; i < 20; i++)
    strcat(s, "</A>");
  strcat(s, TAIL);
  assert_int_equal(dec(s, &it), CIMX_E_SYNTAX);
}

static char *with_sizes(size_t name_len, size_t data_len) {
  char *s = malloc(name_len + data_len + 512);
  char *n = malloc(name_len + 1), *d = malloc(data_len + 1);
  memset(n, 'n', name_len);
  n[name_len] = '\0';
  memset(d, 'd', data_len);
  d[data_len] = '\0';
  sprintf(s,
          HEAD "<PROPERTY NAME=\"Name\"><VALUE>%s</VALUE></PROPERTY>"
               "<PROPERTY NAME=\"Data\"><VALUE>%s</VALUE></PROPERTY>" TAIL,
          n, d);
  free(n);
  free(d);
  return s;
}

static void test_size_caps(void **state) {
  cimx_item_t it;
  char *s = with_sizes(HVKVP_KEY_LEN - 1, HVKVP_VALUE_LEN - 1);
  assert_int_equal(dec(s, &it), CIMX_OK);
  assert_int_equal(it.name_len, HVKVP_KEY_LEN - 1);
  assert_int_equal(it.data_len, HVKVP_VALUE_LEN - 1);
  free(s);
  s = with_sizes(HVKVP_KEY_LEN, 1);
  assert_int_equal(dec(s, &it), CIMX_E_TOOBIG);
  free(s);
  s = with_sizes(1, HVKVP_VALUE_LEN);
  assert_int_equal(dec(s, &it), CIMX_E_TOOBIG);
  free(s);
  s = with_sizes(1, CIMX_MAX_INPUT);
  assert_int_equal(dec(s, &it), CIMX_E_TOOBIG);
  free(s);
}

static void test_source_values(void **state) {
  cimx_item_t it;
  assert_int_equal(dec(HEAD PROP("Name", "k") PROP("Source", "4") TAIL, &it),
                   CIMX_OK);
  assert_int_equal(it.source, 4);
  assert_int_equal(dec(HEAD PROP("Name", "k") PROP("Source", "x1") TAIL, &it),
                   CIMX_OK);
  assert_int_equal(it.source, -1);
  assert_int_equal(dec(HEAD PROP("Name", "k")
                           PROP("Source", "123456789012345678901") TAIL,
                       &it),
                   CIMX_OK);
  assert_int_equal(it.source, -1);
}

static void test_roundtrip_and_truncation(void **state) {
  const char *names[] = {"hvkvp.head", "a<b>&\"'", "gr\xc3\xbc\xc3\x9f"};
  const char *datas[] = {"v=1;epoch=1", "line\r\n\ttab ]]> end", ""};
  for (int i = 0; i < 3; i++) {
    hvsb_t b;
    hvsb_init(&b);
    assert_int_equal(cimx_encode(&b, names[i], datas[i], 0), 0);
    cimx_item_t it;
    assert_int_equal(cimx_decode(b.p, b.len, &it, NULL), CIMX_OK);
    assert_string_equal(it.name, names[i]);
    assert_string_equal(it.data, datas[i]);
    assert_int_equal(it.source, 0);
    /* every proper prefix is refused, never read past */
    for (size_t n = 0; n < b.len; n++) {
      char *cut = malloc(n ? n : 1);
      memcpy(cut, b.p, n);
      assert_int_not_equal(cimx_decode(cut, n, &it, NULL), CIMX_OK);
      free(cut);
    }
    hvsb_free(&b);
  }
}

static void test_encode_refuses(void **state) {
  hvsb_t b;
  hvsb_init(&b);
  assert_int_equal(cimx_encode(&b, "", "x", 0), -1);
  hvsb_reset(&b);
  assert_int_equal(cimx_encode(&b, "k", "bell\x07", 0), -1);
  hvsb_reset(&b);
  assert_int_equal(cimx_encode(&b, "k\xc3", "x", 0), -1);
  hvsb_free(&b);
}

static void test_qualifiers_are_ignored(void **state) {
  cimx_item_t it;
  const char *s =
      HEAD "<QUALIFIER NAME=\"dynamic\" TYPE=\"boolean\"><VALUE>TRUE</VALUE>"
           "</QUALIFIER><PROPERTY NAME=\"Name\" CLASSORIGIN=\"Msvm_"
           "KvpExchangeDataItem\" TYPE=\"string\"><QUALIFIER NAME=\"MaxLen\" "
           "TYPE=\"sint32\"><VALUE>1024</VALUE></QUALIFIER><VALUE>key</VALUE>"
           "</PROPERTY>" PROP("Data", "d") TAIL;
  assert_int_equal(dec(s, &it), CIMX_OK);
  assert_string_equal(it.name, "key");
  assert_string_equal(it.data, "d");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_decode_windows_form),
      cmocka_unit_test(test_decode_entities_cdata_comments),
      cmocka_unit_test(test_decode_non_ascii),
      cmocka_unit_test(test_missing_data_is_empty),
      cmocka_unit_test(test_rejections),
      cmocka_unit_test(test_deep_nesting),
      cmocka_unit_test(test_size_caps),
      cmocka_unit_test(test_source_values),
      cmocka_unit_test(test_roundtrip_and_truncation),
      cmocka_unit_test(test_encode_refuses),
      cmocka_unit_test(test_qualifiers_are_ignored),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
