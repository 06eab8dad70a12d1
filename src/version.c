/* The linked library's version. */
#include "internal.h"

const char *ompb_version(void) { return OMPB_VERSION_STRING; }
