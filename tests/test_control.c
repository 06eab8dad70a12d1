/* Batch control: cancel, pause/resume, fail-fast, deadlines, ownership,
 * streaming. (Filled in with the control work.) */
#include "helpers.h"

int ompb_suite_control(void) { return CU_add_suite("control", NULL, NULL) ? 0 : -1; }
