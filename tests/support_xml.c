#include <stdlib.h>
#include <string.h>

#include "support_xml.h"

char *xpath_string(xmlDocPtr doc, const char *expr)
{
	xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
	xmlXPathObjectPtr obj = ctx ? xmlXPathEvalExpression((const xmlChar *)expr, ctx) : NULL;
	char *s = strdup(obj && obj->stringval ? (const char *)obj->stringval : "");
	xmlXPathFreeObject(obj);
	xmlXPathFreeContext(ctx);
	if (!s)
		abort();
	return s;
}
