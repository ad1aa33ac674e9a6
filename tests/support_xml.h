/* XML helpers shared by the tests that read report.xml. */
#ifndef TTLSLEUTH_TEST_SUPPORT_XML_H
#define TTLSLEUTH_TEST_SUPPORT_XML_H

#include <libxml/xpath.h>

/* An XPath expression's value as a string (write string(...) for a node's text); the caller frees. */
char *xpath_string(xmlDocPtr doc, const char *expr);

#endif
